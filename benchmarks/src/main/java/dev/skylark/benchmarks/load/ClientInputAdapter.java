/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.IOException;
import java.nio.ByteBuffer;

import org.HdrHistogram.SingleWriterRecorder;

import static dev.skylark.benchmarks.load.ClientPacketEncoder.CONNACK;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.DISCONNECT;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.PINGRESP;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.PUBACK;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.PUBCOMP;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.PUBLISH;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.PUBREC;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.PUBREL;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.SUBACK;

/**
 * The input side of one {@link ClientAgent}'s connections: reads the socket, unwraps TLS records, deframes
 * WebSocket frames (answering pings), decodes MQTT packets and dispatches them: a received PUBLISH is checked for
 * gaps and order and its end-to-end latency recorded; acks release packet ids or are answered (PUBREL, PUBCOMP);
 * upgrade response, CONNACK and SUBACK go to the {@link ClientConnector}.
 * <p>
 * Back pressure: a connection stops reading while its send buffer (acks) is nearly full and resumes on
 * {@code OP_WRITE}. This is the only writer of the latency {@link SingleWriterRecorder}: only the agent that owns the
 * subscribers receives PUBLISH packets. Nothing allocates per message. Called by the agent on its thread.
 */
final class ClientInputAdapter
{
    private static final int MIN_TX_SPACE_FOR_READ = 64;

    private final LoadConfig config;
    private final LoadControl control;
    private final SingleWriterRecorder recorder;
    private SingleWriterRecorder ackRecorder;
    private final ClientPacketDecoder decoder;
    private final ClientSendEndPoint sender;
    private final ClientConnector connector;
    private final ClientLifecycle lifecycle;

    private long startNs = Long.MAX_VALUE;
    private long measureStartNs = Long.MAX_VALUE;
    private long measureEndNs = Long.MAX_VALUE;

    private long receivedTotal;
    private long receivedInWindow;
    private long arrivedInWindow;
    private long gaps;
    private long outOfOrder;
    private long badAcks;
    private long readBackPressure;
    private long staleMessages;

    ClientInputAdapter(
        final LoadConfig config,
        final LoadControl control,
        final SingleWriterRecorder recorder,
        final int maxRxCapacity,
        final ClientSendEndPoint sender,
        final ClientConnector connector,
        final ClientLifecycle lifecycle)
    {
        this.config = config;
        this.control = control;
        this.recorder = recorder;
        this.decoder = new ClientPacketDecoder(maxRxCapacity);
        this.sender = sender;
        this.connector = connector;
        this.lifecycle = lifecycle;
    }

    /**
     * The run's schedule as the agent read it at the start of this duty cycle.
     */
    void schedule(final long startNs, final long measureStartNs, final long measureEndNs)
    {
        this.startNs = startNs;
        this.measureStartNs = measureStartNs;
        this.measureEndNs = measureEndNs;
    }

    /**
     * {@code OP_READ}: read what the socket holds and handle it.
     */
    void onReadable(final ClientConnection c) throws IOException
    {
        final int bytes = c.channel.read(null != c.tls ? c.tls.netIn : null == c.wsIn ? c.rx : c.wsIn);
        if (bytes < 0)
        {
            lifecycle.connectionLost(c, "broker closed the connection");
        }
        else if (null != c.tls)
        {
            drainTls(c);
        }
        else if (bytes > 0)
        {
            onInput(c);
        }
    }

    /**
     * After {@code OP_WRITE} made room in the send buffer: handle the input left while reading was blocked.
     */
    void resumeReading(final ClientConnection c) throws IOException
    {
        processInput(c);
        if (null != c.tls && !c.readBlocked)
        {
            drainTls(c); // records left in netIn while reading was blocked
        }
    }

    /**
     * TLS: unwrap the complete records of {@code netIn} and handle them, until none is left, the receive buffer is
     * full and cannot be drained, or reading is blocked by a full send buffer (resumed on {@code OP_WRITE}).
     */
    void drainTls(final ClientConnection c) throws IOException
    {
        final ByteBuffer plaintext = null == c.wsIn ? c.rx : c.wsIn;
        while (c.state != ClientConnection.State.CLOSED && !c.readBlocked)
        {
            final int produced = c.tls.unwrap(plaintext);
            if (produced < 0)
            {
                lifecycle.connectionLost(c, "broker closed the TLS session");
                return;
            }
            if (0 == produced)
            {
                break;
            }
            onInput(c);
        }
        if (c.state != ClientConnection.State.CLOSED && c.tls.hasPendingOutput())
        {
            sender.flush(c); // a record the engine wants to send back (post-handshake message)
        }
    }

    /**
     * Bytes arrived in the receive buffer ({@code wsIn} for WebSocket).
     */
    private void onInput(final ClientConnection c) throws IOException
    {
        if (c.state == ClientConnection.State.WS_UPGRADE)
        {
            if (connector.onUpgradeResponse(c))
            {
                processInput(c);
            }
        }
        else
        {
            processInput(c);
        }
    }

    private void processInput(final ClientConnection c)
    {
        c.readBlocked = false;
        if (null == c.wsIn)
        {
            if (!decodePackets(c))
            {
                return;
            }
        }
        else
        {
            final WebSocketFraming.Deframer deframer = c.deframer;
            while (true)
            {
                final int status = deframer.unwrap(c.wsIn, c.rx);
                if (WebSocketFraming.Deframer.ERROR == status)
                {
                    lifecycle.protocolError(c, "WebSocket: " + deframer.error);
                    return;
                }
                if (WebSocketFraming.Deframer.CLOSE == status)
                {
                    if (decodePackets(c) && !lifecycle.closing())
                    {
                        control.fail(LoadControl.EXIT_PROTOCOL, "broker closed the WebSocket of " + c.clientId +
                            " (close code " + deframer.closeCode() + ")");
                    }
                    lifecycle.close(c);
                    return;
                }
                if (WebSocketFraming.Deframer.PING == status)
                {
                    ClientSendEndPoint.writeControlFrame(
                        c, WebSocketFraming.OPCODE_PONG, deframer.control, deframer.controlLength);
                }
                if (!decodePackets(c))
                {
                    return;
                }
                if (c.readBlocked || (0 == deframer.consumed && WebSocketFraming.Deframer.DATA == status))
                {
                    break;
                }
            }
        }

        sender.flush(c);
        ClientSendEndPoint.updateInterest(c);
    }

    /**
     * Decode and handle the complete packets in {@code rx}, compacting it.
     *
     * @return false when the connection was closed.
     */
    private boolean decodePackets(final ClientConnection c)
    {
        final ByteBuffer rx = c.rx;
        final int limit = rx.position();
        final long receivedNs = System.nanoTime();
        int offset = 0;

        while (offset < limit)
        {
            if (c.tx.remaining() < MIN_TX_SPACE_FOR_READ)
            {
                c.readBlocked = true;
                readBackPressure++;
                break;
            }

            final int length = decoder.wrap(rx, offset, limit);
            if (ClientPacketDecoder.INCOMPLETE == length)
            {
                break;
            }
            if (length < 0)
            {
                lifecycle.protocolError(c, "malformed or oversized packet from broker");
                return false;
            }
            if (!onPacket(c, receivedNs))
            {
                return false;
            }
            offset += length;
        }

        if (offset > 0)
        {
            rx.limit(limit).position(offset);
            rx.compact();
        }

        return true;
    }

    /**
     * The acknowledgement latency recorder (PUBACK at QoS 1, PUBCOMP at QoS 2, from the stamped send time), written
     * only by the agent that owns the publishers; null records nothing.
     */
    void ackRecorder(final SingleWriterRecorder ackRecorder)
    {
        this.ackRecorder = ackRecorder;
    }

    private void recordAck(final long sentNs, final long receivedNs)
    {
        if (null != ackRecorder && Long.MIN_VALUE != sentNs)
        {
            final long latencyNs = receivedNs - sentNs;
            ackRecorder.recordValue(latencyNs < 1 ? 1 : Math.min(latencyNs, ClientAgent.HIGHEST_TRACKABLE_NS));
        }
    }

    private boolean onPacket(final ClientConnection c, final long receivedNs)
    {
        final ClientPacketDecoder decoder = this.decoder;
        switch (decoder.type())
        {
            case PUBLISH:
                return onPublish(c, receivedNs);

            case PUBACK:
            case PUBCOMP:
                if (decoder.ackReasonCode() >= 0x80 | !c.releasePacketId(decoder.packetId()))
                {
                    badAcks++;
                }
                recordAck(c.ackedSentNs(decoder.packetId()), receivedNs);
                return true;

            case PUBREC:
                if (decoder.ackReasonCode() >= 0x80)
                {
                    c.releasePacketId(decoder.packetId());
                    badAcks++;
                }
                else if (c.isInFlight(decoder.packetId()))
                {
                    ClientPacketEncoder.encodeAck(c.tx, PUBREL, decoder.packetId());
                }
                else
                {
                    badAcks++;
                }
                return true;

            case PUBREL & 0xF0:
                ClientPacketEncoder.encodeAck(c.tx, PUBCOMP, decoder.packetId());
                return true;

            case PINGRESP:
                return true;

            case CONNACK:
                return connector.onConnack(c, decoder);

            case SUBACK:
                return connector.onSuback(c, decoder);

            case DISCONNECT:
                lifecycle.fail(c, LoadControl.EXIT_PROTOCOL, "broker sent DISCONNECT to " + c.clientId +
                    " with reason code 0x" + Integer.toHexString(decoder.ackReasonCode()));
                return false;

            default:
                lifecycle.protocolError(c, "unexpected packet type 0x" + Integer.toHexString(decoder.type()));
                return false;
        }
    }

    private boolean onPublish(final ClientConnection c, final long receivedNs)
    {
        final ClientPacketDecoder decoder = this.decoder;
        final int payload = decoder.publishPayloadOffset(config.protocolVersion);
        if (payload < 0 || decoder.endOffset() - payload < PayloadDescriptor.HEADER_LENGTH)
        {
            lifecycle.protocolError(c, "PUBLISH without a load-generator payload header");
            return false;
        }

        final ByteBuffer rx = c.rx;
        final long stampNs = rx.getLong(payload + PayloadDescriptor.TIMESTAMP_OFFSET);
        final int publisher = rx.getInt(payload + PayloadDescriptor.PUBLISHER_OFFSET);
        final int sequence = rx.getInt(payload + PayloadDescriptor.SEQUENCE_OFFSET);

        receivedTotal++;
        if (stampNs - measureStartNs >= 0 && stampNs - measureEndNs < 0)
        {
            receivedInWindow++;
            final long latencyNs = receivedNs - stampNs;
            recorder.recordValue(latencyNs < 1 ? 1 : Math.min(latencyNs, ClientAgent.HIGHEST_TRACKABLE_NS));
        }
        if (receivedNs - measureStartNs >= 0 && receivedNs - measureEndNs < 0)
        {
            arrivedInWindow++;
        }

        if (stampNs - startNs < 0)
        {
            // Sent before this run started (same monotonic clock): a backlog an earlier run left in the broker.
            staleMessages++;
        }
        final int[] expectedSequence = c.expectedSequence;
        if (null != expectedSequence && publisher >= 0 && publisher < expectedSequence.length &&
            stampNs - startNs >= 0)
        {
            final int expected = expectedSequence[publisher];
            if (sequence - expected >= 0)
            {
                gaps += sequence - expected;
                expectedSequence[publisher] = sequence + 1;
            }
            else
            {
                outOfOrder++;
            }
        }

        final int qos = decoder.publishQos();
        if (qos > 0)
        {
            ClientPacketEncoder.encodeAck(c.tx, 1 == qos ? PUBACK : PUBREC, decoder.publishPacketId());
        }

        return true;
    }

    long receivedTotal()
    {
        return receivedTotal;
    }

    long receivedInWindow()
    {
        return receivedInWindow;
    }

    long arrivedInWindow()
    {
        return arrivedInWindow;
    }

    long gaps()
    {
        return gaps;
    }

    long outOfOrder()
    {
        return outOfOrder;
    }

    long badAcks()
    {
        return badAcks;
    }

    long readBackPressure()
    {
        return readBackPressure;
    }

    long staleMessages()
    {
        return staleMessages;
    }
}
