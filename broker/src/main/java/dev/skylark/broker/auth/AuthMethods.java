package dev.skylark.broker.auth;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The enhanced authentication methods a broker accepts, by name; built before the I/O agents start and never
 * changed after, so every agent reads it without locks.
 * <p>
 * {@link #passwordMethod()}: the method a client that authenticated with its password (no Authentication Method in
 * CONNECT) may still re-authenticate with. MQTT 5.0 [MQTT-4.12.0-7] forbids AUTH to such clients; Skylark makes
 * one deliberate exception, for {@code skylark-jwt} in token mode, because there the password <em>is</em> a
 * {@code skylark-jwt} token and refreshing it must not need a reconnect. Every other AUTH from them is a Protocol
 * Error.
 */
public final class AuthMethods
{
    /** No methods: every Authentication Method is refused with 0x8C. */
    public static final AuthMethods NONE = new AuthMethods();

    private final Map<String, AuthMethod> byName = new LinkedHashMap<>();
    private AuthMethod passwordMethod;

    public AuthMethods()
    {
    }

    /**
     * Adds a method.
     *
     * @throws IllegalArgumentException when a method of that name is already registered.
     */
    public AuthMethods register(final AuthMethod method)
    {
        if (this == NONE)
        {
            throw new IllegalStateException("AuthMethods.NONE is shared; make a new AuthMethods");
        }
        if (byName.putIfAbsent(method.name(), method) != null)
        {
            throw new IllegalArgumentException("authentication method '" + method.name() + "' registered twice");
        }
        return this;
    }

    /** Adds a method that password-authenticated connections may re-authenticate with (see the class comment). */
    public AuthMethods registerForPasswordConnections(final AuthMethod method)
    {
        register(method);
        passwordMethod = method;
        return this;
    }

    /** The method of that name, or null. */
    public AuthMethod find(final String name)
    {
        return byName.get(name);
    }

    /** The method password-authenticated connections may re-authenticate with, or null. */
    public AuthMethod passwordMethod()
    {
        return passwordMethod;
    }

    public Collection<AuthMethod> all()
    {
        return byName.values();
    }
}
