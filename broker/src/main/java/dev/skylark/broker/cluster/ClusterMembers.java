package dev.skylark.broker.cluster;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The members of a Skylark cluster, parsed from {@code skylark.cluster.members}:
 * {@code 0=127.0.0.1:9100,1=127.0.0.1:9200,2=127.0.0.1:9300}, a node id, a host and a base port each. A member's
 * ports are derived from its base port ({@code PORTS_PER_MEMBER} of them, so bases must be at least that far
 * apart):
 * <pre>
 *   base + 0  cluster ingress (its registry client connects here)
 *   base + 1  consensus (Raft messages between members)
 *   base + 2  log replication
 *   base + 3  catch-up (a member behind replays the log from the leader)
 *   base + 4  archive control
 *   base + 5  node-to-node messages (forwarded publishes)
 * </pre>
 */
public final class ClusterMembers
{
    public static final int INGRESS_OFFSET = 0;
    public static final int CONSENSUS_OFFSET = 1;
    public static final int LOG_OFFSET = 2;
    public static final int CATCHUP_OFFSET = 3;
    public static final int ARCHIVE_OFFSET = 4;
    public static final int PEER_OFFSET = 5;
    public static final int PORTS_PER_MEMBER = 6;
    /** Node ids are small: they index arrays and a live-node bit mask. */
    public static final int MAX_NODE_ID = 63;

    /** One member: its host and base port. */
    public record Member(int id, String host, int basePort)
    {
        public String endpoint(final int portOffset)
        {
            return host + ":" + (basePort + portOffset);
        }
    }

    private final TreeMap<Integer, Member> members;

    private ClusterMembers(final TreeMap<Integer, Member> members)
    {
        this.members = members;
    }

    /** Parses {@code text}; an {@link IllegalArgumentException} says what is wrong. */
    public static ClusterMembers parse(final String text)
    {
        final TreeMap<Integer, Member> members = new TreeMap<>();
        if (text == null || text.isBlank())
        {
            throw new IllegalArgumentException("no members: expected id=host:basePort,... e.g. " +
                "0=127.0.0.1:9100,1=127.0.0.1:9200,2=127.0.0.1:9300");
        }
        for (final String part : text.split(","))
        {
            final String entry = part.trim();
            final int eq = entry.indexOf('=');
            final int colon = entry.lastIndexOf(':');
            if (eq <= 0 || colon <= eq + 1 || colon == entry.length() - 1)
            {
                throw new IllegalArgumentException("member '" + entry + "' is not id=host:basePort");
            }
            final int id;
            final int base;
            try
            {
                id = Integer.parseInt(entry.substring(0, eq).trim());
                base = Integer.parseInt(entry.substring(colon + 1).trim());
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("member '" + entry + "' is not id=host:basePort");
            }
            if (id < 0 || id > MAX_NODE_ID)
            {
                throw new IllegalArgumentException("member id " + id + " is not in 0.." + MAX_NODE_ID);
            }
            if (base < 1 || base + PORTS_PER_MEMBER - 1 > 65535)
            {
                throw new IllegalArgumentException("member " + id + ": base port " + base + " leaves no room for its " +
                    PORTS_PER_MEMBER + " ports (base .. base+" + (PORTS_PER_MEMBER - 1) + " must be <= 65535)");
            }
            final Member member = new Member(id, entry.substring(eq + 1, colon).trim(), base);
            if (members.put(id, member) != null)
            {
                throw new IllegalArgumentException("member id " + id + " appears twice");
            }
        }
        for (final Member a : members.values())
        {
            for (final Member b : members.values())
            {
                if (a.id() < b.id() && a.host().equals(b.host()) &&
                    Math.abs(a.basePort() - b.basePort()) < PORTS_PER_MEMBER)
                {
                    throw new IllegalArgumentException("members " + a.id() + " and " + b.id() + " on " + a.host() +
                        ": base ports must be at least " + PORTS_PER_MEMBER + " apart");
                }
            }
        }
        return new ClusterMembers(members);
    }

    public Map<Integer, Member> all()
    {
        return Collections.unmodifiableMap(members);
    }

    public Member member(final int id)
    {
        return members.get(id);
    }

    public int size()
    {
        return members.size();
    }

    /** Aeron Cluster's members string: {@code id,ingress,consensus,log,catchup,archive|...}. */
    String consensusMembers()
    {
        final StringBuilder sb = new StringBuilder();
        for (final Member m : members.values())
        {
            sb.append(m.id()).append(',').append(m.endpoint(INGRESS_OFFSET))
                .append(',').append(m.endpoint(CONSENSUS_OFFSET))
                .append(',').append(m.endpoint(LOG_OFFSET))
                .append(',').append(m.endpoint(CATCHUP_OFFSET))
                .append(',').append(m.endpoint(ARCHIVE_OFFSET)).append('|');
        }
        return sb.toString();
    }

    /** The cluster client's ingress endpoints: {@code id=host:port,...}. */
    String ingressEndpoints()
    {
        final StringBuilder sb = new StringBuilder();
        for (final Member m : members.values())
        {
            if (sb.length() > 0)
            {
                sb.append(',');
            }
            sb.append(m.id()).append('=').append(m.endpoint(INGRESS_OFFSET));
        }
        return sb.toString();
    }

    @Override
    public String toString()
    {
        final StringBuilder sb = new StringBuilder();
        for (final Member m : members.values())
        {
            if (sb.length() > 0)
            {
                sb.append(',');
            }
            sb.append(m.id()).append('=').append(m.host()).append(':').append(m.basePort());
        }
        return sb.toString();
    }
}
