package dev.skylark.broker.auth;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * {@link ClientGrant#withUserName}: an anonymous connection of the none mode (and any grant whose user name does not
 * change) shares its grant instead of holding a 72-byte copy per connection (issue #21, idle connections).
 */
class ClientGrantTest
{
    @Test
    void anUnchangedUserNameSharesTheGrant()
    {
        assertSame(ClientGrant.UNRESTRICTED, ClientGrant.UNRESTRICTED.withUserName(null));
        final ClientGrant named = ClientGrant.UNRESTRICTED.withUserName("alice");
        assertSame(named, named.withUserName("alice"));
    }

    @Test
    void aNewUserNameMakesACopyAndLeavesTheSharedGrantAlone()
    {
        final ClientGrant named = ClientGrant.UNRESTRICTED.withUserName("alice");
        assertNotSame(ClientGrant.UNRESTRICTED, named);
        assertEquals("alice", named.userName());
        assertNull(ClientGrant.UNRESTRICTED.userName());
        assertFalse(named.refused());
        assertEquals("bob", named.withUserName("bob").userName());
        assertEquals("alice", named.userName());
    }
}
