package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The broker's own Receive Maximum (2 here) against a v5 publisher, in byte literals. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class InboundFlowControlTest
{
    private Broker broker;

    @BeforeEach
    void start()
    {
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1")
            .receiveMaximum(2));
    }

    @AfterEach
    void stop()
    {
        broker.close();
    }

    private static byte[] b(final int... v)
    {
        final byte[] r = new byte[v.length];
        for (int i = 0; i < v.length; i++)
        {
            r[i] = (byte)v[i];
        }
        return r;
    }

    private static byte[] read(final InputStream in, final int n) throws IOException
    {
        return in.readNBytes(n);
    }

    @Test
    void resentQos2PublishDoesNotLeakReceiveMaximumQuota() throws Exception
    {
        try (Socket s = new Socket("127.0.0.1", broker.mqttPort()))
        {
            s.setSoTimeout(5000);
            final InputStream in = s.getInputStream();
            s.getOutputStream().write(b(
                0x10, 14,                                   // CONNECT, remaining length 14
                0, 4, 'M', 'Q', 'T', 'T', 5,                // protocol name, level 5
                0x02, 0, 60,                                // clean start, keep alive 60
                0,                                          // properties length 0
                0, 1, 'f'));                                // client id "f"
            final int connackLength = read(in, 2)[1];
            read(in, connackLength);
            for (int id = 1; id <= 3; id++)
            {
                final byte[] publish = b(
                    0x34, 7,                                // PUBLISH QoS 2, remaining length 7
                    0, 1, 't',                              // topic "t"
                    0, id,                                  // packet id
                    0,                                      // properties length 0
                    'x');                                   // payload
                s.getOutputStream().write(publish);
                assertArrayEquals(b(0x50, 3, 0, id, 0x10), read(in, 5), "PUBREC, no matching subscribers");
                publish[0] = 0x3C;                          // resent with DUP before PUBREL
                s.getOutputStream().write(publish);
                assertArrayEquals(b(0x50, 2, 0, id), read(in, 4), "PUBREC for the resend");
                s.getOutputStream().write(b(0x62, 2, 0, id)); // PUBREL
                assertArrayEquals(b(0x70, 2, 0, id), read(in, 4), "PUBCOMP");
            }
            // Nothing is in flight now, so two QoS 1 publishes must both be accepted.
            for (int id = 10; id <= 11; id++)
            {
                s.getOutputStream().write(b(
                    0x32, 7,                                // PUBLISH QoS 1, remaining length 7
                    0, 1, 't',                              // topic "t"
                    0, id,                                  // packet id
                    0,                                      // properties length 0
                    'y'));                                  // payload
                assertArrayEquals(b(0x40, 3, 0, id, 0x10), read(in, 5), "PUBACK, not DISCONNECT 0x93");
            }
        }
    }
}
