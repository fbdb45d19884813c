package dev.skylark.broker.hook;

import dev.skylark.broker.auth.KeyRing;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.util.Base64;

/**
 * Signs hook requests with the broker's Ed25519 key (the one {@code skylark keys} prints), so a receiver verifies
 * them with the public key alone: the signature covers {@code timestamp + "." + body}.
 *
 * <pre>
 * X-Skylark-Timestamp: 1764000000000            epoch milliseconds when the request was signed
 * X-Skylark-Key-Id:    ed25519-20261124T...     the "kid" of the key in `skylark keys`
 * X-Skylark-Signature: base64url(Ed25519(timestamp + "." + body)), no padding
 * </pre>
 * Not thread safe: one instance for the hook agent.
 */
public final class HookSigner
{
    public static final String SIGNATURE_HEADER = "X-Skylark-Signature";
    public static final String TIMESTAMP_HEADER = "X-Skylark-Timestamp";
    public static final String KEY_ID_HEADER = "X-Skylark-Key-Id";
    private static final byte[] SEPARATOR = {'.'};

    private final KeyRing keyRing;
    private final Signature signature;

    /** The three header values of one request. */
    public record Signed(String timestamp, String keyId, String signature)
    {
    }

    public HookSigner(final KeyRing keyRing)
    {
        this.keyRing = keyRing;
        try
        {
            this.signature = Signature.getInstance("Ed25519");
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException("Ed25519 is not available in this JVM: " + ex.getMessage(), ex);
        }
    }

    public Signed sign(final long timestampMs, final byte[] body)
    {
        final KeyRing.SigningKey key = keyRing.currentSigningKey();
        final String timestamp = Long.toString(timestampMs);
        try
        {
            signature.initSign(key.privateKey());
            signature.update(timestamp.getBytes(StandardCharsets.US_ASCII));
            signature.update(SEPARATOR);
            signature.update(body);
            return new Signed(timestamp, key.keyId(),
                Base64.getUrlEncoder().withoutPadding().encodeToString(signature.sign()));
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException("cannot sign a hook request: " + ex.getMessage(), ex);
        }
    }
}
