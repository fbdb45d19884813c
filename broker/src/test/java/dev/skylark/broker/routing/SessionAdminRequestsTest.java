package dev.skylark.broker.routing;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The session requests on the admin queue: client id glob/prefix matching, input checks, the shared bound. */
class SessionAdminRequestsTest
{
    @Test
    void clientIdFilterIsAGlobWhenItHasOneElseAPrefix()
    {
        assertTrue(RetainedAdmin.matches("", "anything"));
        assertTrue(RetainedAdmin.matches("dev", "device-1"));
        assertFalse(RetainedAdmin.matches("dev", "de"));
        assertTrue(RetainedAdmin.matches("dev*", "dev"));
        assertTrue(RetainedAdmin.matches("*-1", "device-1"));
        assertFalse(RetainedAdmin.matches("*-1", "device-10"), "a glob is anchored at both ends");
        assertTrue(RetainedAdmin.matches("d?v", "dev"));
        assertFalse(RetainedAdmin.matches("d?v", "dv"));
        assertTrue(RetainedAdmin.matches("*a*b*", "xxaybz"));
        assertFalse(RetainedAdmin.matches("*a*b*", "xxbya"));
    }

    @Test
    void kickAndDeleteNeedAClientIdAndFiltersAreBounded()
    {
        final RetainedAdmin admin = new RetainedAdmin();
        assertThrows(IllegalArgumentException.class, () -> admin.submitSessions(RetainedAdmin.CLIENT_KICK, "", 0));
        assertThrows(IllegalArgumentException.class, () -> admin.submitSessions(RetainedAdmin.SESSION_DELETE, null, 0));
        assertThrows(IllegalArgumentException.class, () -> admin.submitSessions(0, "a", 0));
        assertThrows(IllegalArgumentException.class, () -> admin.submitSessions(RetainedAdmin.SESSIONS_LIST,
            "x".repeat(RetainedAdmin.CLIENT_FILTER_MAX + 1), 0));
        assertTrue(admin.submitSessions(RetainedAdmin.SESSIONS_LIST, "x".repeat(RetainedAdmin.CLIENT_FILTER_MAX), 0)
            > 0);
    }

    @Test
    void sessionAndRetainedRequestsShareOneBoundedQueue()
    {
        final RetainedAdmin admin = new RetainedAdmin();
        for (int i = 0; i < RetainedAdmin.SLOTS - 1; i++)
        {
            assertTrue(admin.submitSessions(RetainedAdmin.CLIENTS_LIST, null, 0) > 0);
        }
        assertTrue(admin.submit("#", -1, 0, 0, false) > 0, "the 32nd pending request is taken");
        assertEquals(0, admin.submitSessions(RetainedAdmin.SESSIONS_LIST, null, 0), "the 33rd is refused");
        assertEquals(0, admin.submit("#", -1, 0, 0, false));
    }
}
