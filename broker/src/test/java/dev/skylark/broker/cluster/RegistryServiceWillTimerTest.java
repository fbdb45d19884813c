package dev.skylark.broker.cluster;

import io.aeron.cluster.codecs.CloseReason;
import io.aeron.cluster.service.ClientSession;
import io.aeron.cluster.service.Cluster;
import io.aeron.logbuffer.Header;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.NoOpIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The registry service keeps one Aeron Cluster timer at the earliest due will (issue 19): scheduled when a node's
 * wills fall due, fired as {@code onTimerEvent} (the wills go), then set for the next one; after a restart (the state
 * loaded, {@code onStart} may not schedule) the next log entry re-arms it. Aeron's {@link Cluster} and
 * {@link ClientSession} are stand-ins recording what the service asks of them.
 */
@Timeout(10)
class RegistryServiceWillTimerTest
{
    private final List<String> timers = new ArrayList<>();
    private final RegistryWillsTest.WillEvents events = new RegistryWillsTest.WillEvents();
    private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(256);
    private final Header header = new Header(0, 16).buffer(new UnsafeBuffer(new byte[64])).offset(0);

    private Cluster cluster()
    {
        return (Cluster)Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Cluster.class},
            (proxy, method, args) ->
            {
                switch (method.getName())
                {
                    case "scheduleTimer":
                        timers.add("schedule " + args[0] + " at " + args[1]);
                        return true;
                    case "cancelTimer":
                        timers.add("cancel " + args[0]);
                        return true;
                    case "idleStrategy":
                        return NoOpIdleStrategy.INSTANCE;
                    default:
                        return method.getReturnType() == boolean.class ? false :
                            method.getReturnType() == long.class ? 0L : method.getReturnType() == int.class ? 0 : null;
                }
            });
    }

    private static ClientSession session(final long id)
    {
        return (ClientSession)Proxy.newProxyInstance(RegistryServiceWillTimerTest.class.getClassLoader(),
            new Class<?>[] {ClientSession.class},
            (proxy, method, args) -> method.getName().equals("id") ? id :
                method.getReturnType() == boolean.class ? false : method.getReturnType() == long.class ? 0L :
                method.getReturnType() == int.class ? 0 : null);
    }

    private void message(final RegistryService service, final long session, final long time, final int length)
    {
        service.onSessionMessage(session(session), time, buffer, 0, length, header);
    }

    private void hello(final RegistryService service, final long session, final int node, final long time)
    {
        message(service, session, time, RegistryCommands.encodeHello(buffer, 0, node));
    }

    private void claimWithWill(
        final RegistryService service, final long session, final String clientId, final long epoch, final long delay,
        final long time)
    {
        message(service, session, time,
            RegistryCommands.encodeLongString(buffer, 0, RegistryCommands.CLAIM, 0, clientId));
        final byte[] m = RegistryTest.message("w/" + clientId, 3);
        message(service, session, time, RegistryCommands.encodeWill(
            buffer, 0, clientId, epoch, delay, 3600, new UnsafeBuffer(m), 0, m.length));
    }

    @Test
    void oneTimerAtTheEarliestDueWillThenTheNextAndReArmedAfterARestart()
    {
        final Registry registry = new Registry(1, 10_000, events);
        final RegistryService service = new RegistryService(registry, 1);
        service.onStart(cluster(), null);
        hello(service, 10, 1, 1);
        hello(service, 20, 2, 2);
        claimWithWill(service, 10, "late", 1, 9, 3);
        claimWithWill(service, 10, "soon", 2, 4, 4);
        assertEquals(List.of(), timers, "no timer while the owner lives");

        service.onSessionClose(session(10), 1000, CloseReason.TIMEOUT);
        assertEquals(List.of("schedule 1 at 5000"), timers, "the earliest due will");
        timers.clear();
        message(service, 20, 1500, RegistryCommands.encodeLongString(buffer, 0, RegistryCommands.ROUTE_ADD, 1, "x"));
        assertEquals(List.of(), timers, "unchanged: not scheduled again");

        service.onTimerEvent(RegistryService.WILL_TIMER_ID, 5000);
        assertEquals(List.of("schedule 1 at 10000"), timers, "fired: set for the next one");
        assertEquals(1, events.wills().size());

        // A restart: the state (here the same registry) is loaded, onStart may not schedule; the next entry re-arms.
        timers.clear();
        final RegistryService restarted = new RegistryService(registry, 1);
        restarted.onStart(cluster(), null);
        assertEquals(List.of(), timers);
        message(restarted, 20, 6000, RegistryCommands.encodeLongString(buffer, 0, RegistryCommands.ROUTE_ADD, 2, "y"));
        assertEquals(List.of("schedule 1 at 10000"), timers, "re-armed by the first log entry after the restart");

        timers.clear();
        restarted.onTimerEvent(RegistryService.WILL_TIMER_ID, 10_000);
        assertEquals(1, events.wills().size());
        assertEquals(List.of(), timers, "nothing more due: no timer");
        assertEquals(0, registry.willCount());
    }

    @Test
    void aSessionClosedByTheNodeItselfIsACleanLeaveAndATimeoutIsADeath()
    {
        final Registry registry = new Registry(1, 10_000, events);
        final RegistryService service = new RegistryService(registry, 1);
        service.onStart(cluster(), null);
        hello(service, 10, 1, 1);
        hello(service, 20, 2, 2);
        hello(service, 30, 3, 3);
        claimWithWill(service, 10, "left", 1, 0, 4);
        claimWithWill(service, 20, "died", 2, 0, 5);
        service.onSessionClose(session(10), 1000, CloseReason.CLIENT_ACTION);
        assertEquals(List.of(), events.wills(), "node 1 left cleanly");
        service.onSessionClose(session(20), 2000, CloseReason.TIMEOUT);
        assertEquals(List.of("will died by 3 w/died " + RegistryTest.message("w/died", 3).length), events.wills());
    }
}
