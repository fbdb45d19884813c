package dev.skylark.broker.auth;

/**
 * One MQTT 5 enhanced authentication method, chosen by the CONNECT's Authentication Method (MQTT 5.0 §4.12).
 * <p>
 * The session layer drives the exchange; a method only judges data. {@link #start} sees the CONNECT's
 * Authentication Data, or the data of an AUTH 0x19 (Re-authenticate); it answers with an {@link AuthStep}:
 * success with a {@link ClientGrant}, continue with a challenge (sent as AUTH 0x18 Continue authentication, the
 * client's AUTH 0x18 answer comes to {@link #next}), or failure with a CONNACK reason code. Steps run on the
 * connection's I/O thread, one at a time per connection; implementations are thread-safe because every I/O agent
 * shares one, and keep what a conversation needs between steps in {@link AuthStep#state()}.
 */
public interface AuthMethod
{
    /** The Authentication Method name clients put in CONNECT and AUTH (a UTF-8 string, compared exactly). */
    String name();

    /**
     * The first step of an exchange.
     *
     * @param request who asks and whether this is the CONNECT or a re-authentication.
     * @param data    the Authentication Data, or null when the packet carries none.
     */
    AuthStep start(AuthRequest request, byte[] data);

    /**
     * A further step: the client's AUTH 0x18 after this method answered {@link AuthStep#proceed}. Single-step
     * methods never get here: the session refuses an AUTH 0x18 nobody asked for.
     *
     * @param state what the previous step kept ({@link AuthStep#state()}).
     * @param data  the Authentication Data of the client's AUTH, or null.
     */
    default AuthStep next(final AuthRequest request, final Object state, final byte[] data)
    {
        return AuthStep.failure(dev.skylark.codec.mqtt.ReasonCode.PROTOCOL_ERROR,
            "method " + name() + " takes a single step");
    }
}
