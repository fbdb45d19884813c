package dev.skylark.broker.hook;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubRecException;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import dev.skylark.broker.Broker;
import dev.skylark.codec.mqtt.ReasonCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.skylark.broker.hook.HookTests.counter;
import static dev.skylark.broker.hook.HookTests.publishes;
import static dev.skylark.broker.hook.HookTests.receive;
import static dev.skylark.broker.hook.HookTests.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A hook that answers 500, answers nothing in time, or answers something unreadable, under each policy:
 * fail-closed drops the batch (QoS 1 gets PUBACK 0x80, QoS 2 PUBREC 0x80), fail-open delivers it unchanged; both
 * count and log it, and the hook is asked again for the next message.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PublishHookFailureTest
{
    @TempDir
    Path dataDir;
    private HookServer hook;
    private Broker broker;
    private final List<Mqtt5BlockingClient> clients = new ArrayList<>();

    @AfterEach
    void stop()
    {
        HookTests.disconnectAll(clients);
        if (broker != null)
        {
            broker.close();
        }
        if (hook != null)
        {
            hook.close();
        }
    }

    @ParameterizedTest(name = "{0} under {1}")
    @CsvSource({
        "status, fail-closed", "status, fail-open",
        "timeout, fail-closed", "timeout, fail-open",
        "malformed, fail-closed", "malformed, fail-open"})
    void failedRequestsFollowThePolicy(final String failure, final String policy) throws Exception
    {
        hook = new HookServer((request) -> switch (failure)
        {
            case "status" -> HookServer.Answer.status(500);
            case "timeout" ->
            {
                hook.release.await(); // answers only when the test ends; the broker gives up long before
                yield HookServer.Answer.status(200);
            }
            default -> new HookServer.Answer(200, "{\"not\": \"an array\"}".getBytes(StandardCharsets.UTF_8));
        });
        broker = Broker.launch(HookTests.context(dataDir, hook).hookPublish(hook.url(), "hooked/#")
            .hookPublishPolicy(policy).hookPublishTimeoutMs("timeout".equals(failure) ? 300 : 10_000));
        final boolean open = "fail-open".equals(policy);
        final Mqtt5BlockingClient sub = HookTests.connect(broker, "sub", clients);
        final Mqtt5BlockingClient pub = HookTests.connect(broker, "pub", clients);
        try (Mqtt5BlockingClient.Mqtt5Publishes received = publishes(sub))
        {
            sub.subscribeWith().topicFilter("#").qos(MqttQos.EXACTLY_ONCE).send();

            if (open)
            {
                final Mqtt5PublishResult result = pub.publishWith().topic("hooked/1").qos(MqttQos.AT_LEAST_ONCE)
                    .payload("one".getBytes()).send();
                assertEquals(0, ((Mqtt5PublishResult.Mqtt5Qos1Result)result).getPubAck().getReasonCode().getCode());
                pub.publishWith().topic("hooked/2").qos(MqttQos.EXACTLY_ONCE).payload("two".getBytes()).send();
            }
            else
            {
                final Mqtt5PubAckException puback = assertThrows(Mqtt5PubAckException.class, () -> pub.publishWith()
                    .topic("hooked/1").qos(MqttQos.AT_LEAST_ONCE).payload("one".getBytes()).send());
                assertEquals(ReasonCode.UNSPECIFIED_ERROR, puback.getMqttMessage().getReasonCode().getCode());
                final Mqtt5PubRecException pubrec = assertThrows(Mqtt5PubRecException.class, () -> pub.publishWith()
                    .topic("hooked/2").qos(MqttQos.EXACTLY_ONCE).payload("two".getBytes()).send());
                assertEquals(ReasonCode.UNSPECIFIED_ERROR, pubrec.getMqttMessage().getReasonCode().getCode());
            }
            pub.publishWith().topic("hooked/3").qos(MqttQos.AT_MOST_ONCE).payload("three".getBytes()).send();
            HookTests.await("the QoS 0 message's batch to fail as well",
                () -> counter(broker, "skylark_hook_failures_total") == 3);
            // An unhooked topic is untouched; it is not ordered with hooked ones, so it marks the end only once
            // the hooked messages are decided.
            pub.publishWith().topic("plain/4").qos(MqttQos.AT_LEAST_ONCE).payload("four".getBytes()).send();

            final List<String> seen = new ArrayList<>();
            while (seen.size() < (open ? 4 : 1))
            {
                seen.add(text(receive(received)));
            }
            if (open)
            {
                assertEquals(List.of("one", "two"), seen.subList(0, 2), "fail-open delivers unchanged, in order");
                assertEquals(java.util.Set.of("three", "four"), java.util.Set.copyOf(seen.subList(2, 4)));
            }
            else
            {
                assertEquals(List.of("four"), seen, "fail-closed drops");
            }
        }
        assertEquals(3, counter(broker, "skylark_hook_failures_total", "reason=\"" + failure + "\""));
        assertEquals(3, counter(broker, "skylark_hook_messages_sent_total"));
        assertEquals(open ? 3 : 0, counter(broker, "skylark_hook_failed_messages_delivered_total"));
        assertEquals(open ? 0 : 3, counter(broker, "skylark_hook_failed_messages_dropped_total"));
        assertEquals(0, counter(broker, "skylark_hook_messages_delivered_total"));
        HookTests.await("every message to ask the hook again", () -> hook.requests.size() == 3);
    }
}
