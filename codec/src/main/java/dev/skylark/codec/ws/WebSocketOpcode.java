package dev.skylark.codec.ws;

/**
 * RFC 6455 section 5.2 opcodes (the low 4 bits of the first frame byte).
 * <p>
 * Opcodes 0x3-0x7 are reserved for further data frames and 0xB-0xF for further control frames;
 * with no extension negotiated they are a protocol error (close status 1002).
 */
public final class WebSocketOpcode
{
    public static final int CONTINUATION = 0x0;
    /** Text frame. MQTT over WebSocket allows binary frames only (MQTT 5.0 section 6.0). */
    public static final int TEXT = 0x1;
    public static final int BINARY = 0x2;
    public static final int CLOSE = 0x8;
    public static final int PING = 0x9;
    public static final int PONG = 0xA;

    private WebSocketOpcode()
    {
    }

    /** True for close, ping and pong (and the reserved control opcodes): bit 3 set. */
    public static boolean isControl(final int opcode)
    {
        return (opcode & 0x8) != 0;
    }

    /** True for an opcode defined by RFC 6455 (not reserved). */
    public static boolean isKnown(final int opcode)
    {
        return opcode <= BINARY || (opcode >= CLOSE && opcode <= PONG);
    }

    /** A readable name for logs. */
    public static String name(final int opcode)
    {
        switch (opcode)
        {
            case CONTINUATION: return "CONTINUATION";
            case TEXT: return "TEXT";
            case BINARY: return "BINARY";
            case CLOSE: return "CLOSE";
            case PING: return "PING";
            case PONG: return "PONG";
            default: return "RESERVED(0x" + Integer.toHexString(opcode) + ")";
        }
    }
}
