package dev.skylark.broker.auth;

import dev.skylark.broker.Broker;
import dev.skylark.broker.Configuration;
import org.junit.jupiter.api.Test;

import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AuthConfigurationTest
{
    @Test
    void tokenModeIsTheDefault()
    {
        assertEquals(AuthMode.TOKEN, new Broker.Context(new Properties()).authMode());
        final AuthSettings settings = new Broker.Context(new Properties()).authSettings();
        assertEquals(30, settings.clockSkewS());
        assertEquals(0, settings.maxLifetimeS());
        assertTrue(settings.disconnectOnExpiry());
    }

    @Test
    void badAuthValuesAreNamed()
    {
        final Properties properties = new Properties();
        properties.setProperty(Configuration.AUTH_MODE_PROP_NAME, "kerberos"); // "password" is a mode now
        properties.setProperty(Configuration.AUTH_CLOCK_SKEW_S_PROP_NAME, "3601");
        properties.setProperty(Configuration.AUTH_EXPIRY_DISCONNECT_PROP_NAME, "maybe");
        assertEquals(3, Configuration.validate(properties).size(), Configuration.validate(properties).toString());

        final Properties missing = new Properties();
        missing.setProperty(Configuration.AUTH_JWKS_FILE_PROP_NAME, "/nonexistent/keys.jwks");
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> new Broker.Context(missing).conclude());
        assertTrue(ex.getMessage().contains(Configuration.AUTH_JWKS_FILE_PROP_NAME), ex.getMessage());
        missing.setProperty(Configuration.AUTH_MODE_PROP_NAME, "none");
        assertEquals(AuthMode.NONE, new Broker.Context(missing).conclude().authMode(), "not checked when auth is off");
    }
}
