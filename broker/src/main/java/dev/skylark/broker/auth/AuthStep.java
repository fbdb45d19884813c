package dev.skylark.broker.auth;

import dev.skylark.codec.mqtt.ReasonCode;

/**
 * What one step of an {@link AuthMethod} decided: {@link #success}, {@link #proceed} (continue the exchange) or
 * {@link #failure}. Made once per step, off the message path.
 */
public final class AuthStep
{
    /** The three outcomes of a step. */
    public enum Kind
    {
        SUCCESS, CONTINUE, FAILURE
    }

    private final Kind kind;
    private final ClientGrant grant;
    private final byte[] data;
    private final Object state;
    private final int reasonCode;
    private final String why;

    private AuthStep(
        final Kind kind, final ClientGrant grant, final byte[] data, final Object state, final int reasonCode,
        final String why)
    {
        this.kind = kind;
        this.grant = grant;
        this.data = data;
        this.state = state;
        this.reasonCode = reasonCode;
        this.why = why;
    }

    /**
     * Authenticated.
     *
     * @param grant what the client may do; its {@link ClientGrant#clientId()} (null: any) must be the connection's.
     * @param data  Authentication Data for the CONNACK or AUTH 0x00, or null.
     */
    public static AuthStep success(final ClientGrant grant, final byte[] data)
    {
        if (grant == null || grant.refused())
        {
            throw new IllegalArgumentException("success needs a grant that is not a refusal");
        }
        return new AuthStep(Kind.SUCCESS, grant, data, null, ReasonCode.SUCCESS, null);
    }

    /**
     * More is needed: the session sends AUTH 0x18 (Continue authentication) with {@code challenge} and hands the
     * client's answer, with {@code state}, to {@link AuthMethod#next}.
     */
    public static AuthStep proceed(final byte[] challenge, final Object state)
    {
        return new AuthStep(Kind.CONTINUE, null, challenge, state, ReasonCode.CONTINUE_AUTHENTICATION, null);
    }

    /**
     * Refused.
     *
     * @param reasonCode the CONNACK reason code (0x80 or above); at re-authentication it is sent in the DISCONNECT
     *                   when the specification allows it there, else 0x87 Not authorized is.
     * @param why        for the log and the Reason String; never a secret.
     */
    public static AuthStep failure(final int reasonCode, final String why)
    {
        if (reasonCode < ReasonCode.UNSPECIFIED_ERROR)
        {
            throw new IllegalArgumentException("a failure needs a reason code of 0x80 or above");
        }
        return new AuthStep(Kind.FAILURE, null, null, null, reasonCode, why);
    }

    /** A refused grant as a failure, a granted one as a success without data. */
    public static AuthStep of(final ClientGrant grant)
    {
        return grant.refused() ? failure(grant.reasonCode(), grant.why()) : success(grant, null);
    }

    public Kind kind()
    {
        return kind;
    }

    /** The grant of a success. */
    public ClientGrant grant()
    {
        return grant;
    }

    /** Authentication Data to send (success or continue), or null. */
    public byte[] data()
    {
        return data;
    }

    /** What a continue keeps for the next step. */
    public Object state()
    {
        return state;
    }

    /** SUCCESS, CONTINUE_AUTHENTICATION, or the failure's reason code. */
    public int reasonCode()
    {
        return reasonCode;
    }

    /** Why a failure failed. */
    public String why()
    {
        return why;
    }
}
