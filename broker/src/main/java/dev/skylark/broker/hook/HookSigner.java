package dev.skylark.broker.hook;

import dev.skylark.broker.auth.KeyRing;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.util.Base64;

/**
 * Signs hook requests with the broker's Ed25519 key (the one {@code skylark keys} prints), so a receiver verifies
 * them with the public key alone: the signature covers {@code "skylark-publish-hook-v1:" + timestamp + "." + body}.
 * <p>
 * The same key signs tokens, so the signed text is domain-separated: a JWS signing input is base64url and dots only
 * and never holds the ':' of {@link #DOMAIN}, so no token signature verifies as a hook signature and no hook
 * signature as a token's (before, a token's header, payload and signature sent as timestamp, body and signature
 * verified with a hook that did not insist on a numeric timestamp).
 *
 * <pre>
 * X-Skylark-Timestamp: 1764000000000            epoch milliseconds when the request was signed
 * X-Skylark-Key-Id:    ed25519-20261124T...     the "kid" of the key in `skylark keys`
 * X-Skylark-Signature: base64url(Ed25519("skylark-publish-hook-v1:" + timestamp + "." + body)), no padding
 * </pre>
 * Not thread safe: one instance for the hook agent.
 */
public final class HookSigner
{
    public static final String SIGNATURE_HEADER = "X-Skylark-Signature";
    public static final String TIMESTAMP_HEADER = "X-Skylark-Timestamp";
    public static final String KEY_ID_HEADER = "X-Skylark-Key-Id";
    /** What every signed text starts with, so a hook signature means nothing else (see the class comment). */
    public static final String DOMAIN = "skylark-publish-hook-v1:";
    private static final byte[] DOMAIN_BYTES = DOMAIN.getBytes(StandardCharsets.US_ASCII);
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
            signature.update(DOMAIN_BYTES);
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
