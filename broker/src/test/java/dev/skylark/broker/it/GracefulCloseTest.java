package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A client refused while it is still sending must get the refusal, not a reset: the broker shuts its output down
 * after the last packet and swallows what still comes (closing a socket with unread input makes the kernel answer
 * with a reset, which fails the client's next read or write before it has seen the reason code).
 */
@Timeout(30)
class GracefulCloseTest
{
    /** CONNECT with protocol level 6, which the broker does not speak: CONNACK return code 1, then close. */
    private static final byte[] CONNECT_LEVEL_6 = {
        0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x06, 0x02, 0x00, 0x3C, 0x00, 0x01, 'c'};

    private Broker broker;

    @BeforeEach
    void start()
    {
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1"));
    }

    @AfterEach
    void stop()
    {
        broker.close();
    }

    @Test
    void aRefusedClientThatKeepsSendingReadsTheRefusalAndAnOrderlyEnd() throws Exception
    {
        final byte[] more = new byte[256 * 1024]; // more than the broker reads at once
        Arrays.fill(more, (byte)0x30); // PUBLISH headers and bytes the broker will never parse
        for (int round = 0; round < 5; round++) // a reset is likely, not certain, in one round: a few make it sure
        {
            refusedWhileSending(more);
        }
    }

    private void refusedWhileSending(final byte[] more) throws Exception
    {
        try (Socket socket = new Socket("127.0.0.1", broker.mqttPort()))
        {
            final OutputStream out = socket.getOutputStream();
            final InputStream in = socket.getInputStream();
            final byte[] first = Arrays.copyOf(CONNECT_LEVEL_6, CONNECT_LEVEL_6.length + more.length);
            System.arraycopy(more, 0, first, CONNECT_LEVEL_6.length, more.length);
            out.write(first); // the refused CONNECT, and more behind it in the same write: unread when refused

            final byte[] connack = in.readNBytes(4);
            assertArrayEquals(new byte[]{0x20, 0x02, 0x00, 0x01}, connack, "CONNACK: unacceptable protocol version");

            out.write(more); // still sending after the refusal: swallowed, not answered with a reset
            out.flush();
            assertEquals(-1, in.read(), "an orderly end of stream after the CONNACK, not a connection reset");
        }
    }
}
