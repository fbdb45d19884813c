package dev.skylark.broker;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RawSocketSmokeTest
{
    @Test
    void connectGetsConnack() throws Exception
    {
        try (Broker broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1"));
            Socket socket = new Socket("127.0.0.1", broker.mqttPort()))
        {
            socket.setSoTimeout(3000);
            final OutputStream out = socket.getOutputStream();
            out.write(new byte[]{
                0x10, 13,                         // CONNECT, remaining length 13
                0, 4, 'M', 'Q', 'T', 'T', 4,      // protocol name, level 4
                0x02, 0, 60,                      // clean session, keep alive 60
                0, 1, 'a'                         // client id "a"
            });
            final InputStream in = socket.getInputStream();
            final byte[] connack = in.readNBytes(4);
            assertEquals(0x20, connack[0]);
            assertEquals(0, connack[3]);
        }
    }
}
