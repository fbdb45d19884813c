package dev.skylark.codec.ws;

import org.agrona.DirectBuffer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Collects the data stream and a log of control events; can pause every n-th data callback. */
final class RecordingHandler implements WebSocketFrameHandler
{
    final ByteArrayOutputStream data = new ByteArrayOutputStream();
    final List<String> events = new ArrayList<>();
    int dataCalls;
    int pauseEvery;
    int closeCode = -1;
    String closeReason;

    @Override
    public boolean onData(final DirectBuffer buffer, final int offset, final int length)
    {
        final byte[] bytes = new byte[length];
        buffer.getBytes(offset, bytes);
        data.writeBytes(bytes);
        dataCalls++;
        return pauseEvery == 0 || dataCalls % pauseEvery != 0;
    }

    @Override
    public void onPing(final DirectBuffer buffer, final int offset, final int length)
    {
        events.add("ping:" + buffer.getStringWithoutLengthUtf8(offset, length));
    }

    @Override
    public void onPong(final DirectBuffer buffer, final int offset, final int length)
    {
        events.add("pong:" + buffer.getStringWithoutLengthUtf8(offset, length));
    }

    @Override
    public void onClose(final int code, final DirectBuffer reason, final int offset, final int length)
    {
        closeCode = code;
        closeReason = reason.getStringWithoutLengthUtf8(offset, length);
        events.add("close:" + code + ":" + closeReason);
    }

    byte[] bytes()
    {
        return data.toByteArray();
    }

    String text()
    {
        return new String(bytes(), StandardCharsets.UTF_8);
    }
}
