package dev.skylark.broker;

import dev.skylark.codec.mqtt.ConnAckDecoder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The package arrows, checked on the compiled classes: every class named in a class file's constant pool (class
 * entries, field and method descriptors, generic signatures, annotations; string literals excluded) counts as a
 * dependency. No bytecode library: the constant pool is read by hand.
 * <pre>
 *   io.aeron    only in broker.ipc and broker.cluster        net.openhft only in broker.journal
 *   codec       -> nothing of the broker   net         -> codec only (no routing, session, journal, auth, ...)
 *   journal, status, auth -> no other broker package     routing -> net, status, codec only
 *   cluster -> routing, status only (it implements routing's ClusterLink)
 *   only the root package and cli use the root package; nothing uses cli; no cycles between packages
 * </pre>
 */
class ArchitectureTest
{
    private static final String BROKER = "dev.skylark.broker";
    private static final String CODEC = "dev.skylark.codec";
    private static final Pattern DESCRIPTOR_CLASS = Pattern.compile("L([\\w/$]+)[;<]");

    /** Package → the packages (and third-party roots like io.aeron) its classes name. */
    private static final Map<String, Set<String>> BROKER_ARROWS = new TreeMap<>();
    private static final Map<String, Set<String>> CODEC_ARROWS = new TreeMap<>();

    @BeforeAll
    static void readClasses() throws IOException, URISyntaxException
    {
        read(classesOf(Broker.class), BROKER_ARROWS);
        read(classesOf(ConnAckDecoder.class), CODEC_ARROWS);
        assertTrue(BROKER_ARROWS.size() > 8, "broker packages found: " + BROKER_ARROWS.keySet());
        assertTrue(BROKER_ARROWS.get(BROKER + ".ipc").contains("io.aeron"), "the parser sees io.aeron in ipc");
    }

    @Test
    void aeronOnlyInIpcAndCluster()
    {
        assertOnlyIn("io.aeron", BROKER + ".ipc", BROKER + ".cluster");
    }

    @Test
    void clusterUsesOnlyRoutingAndStatus()
    {
        assertUsesOnly("cluster", "routing", "status");
    }

    @Test
    void chronicleOnlyInJournal()
    {
        assertOnlyIn("net.openhft", BROKER + ".journal");
    }

    @Test
    void codecUsesNothingOfTheBroker()
    {
        CODEC_ARROWS.forEach((pkg, uses) -> uses.forEach((used) ->
            assertFalse(used.startsWith(BROKER), pkg + " uses " + used)));
    }

    @Test
    void transportUsesOnlyTheCodec()
    {
        assertUsesOnly("net", "codec");
    }

    @Test
    void leavesUseNoOtherBrokerPackage()
    {
        assertUsesOnly("journal");
        assertUsesOnly("status");
        assertUsesOnly("auth", "codec");
    }

    @Test
    void routingUsesOnlyTransportStatusAndCodec()
    {
        assertUsesOnly("routing", "net", "status", "codec");
    }

    @Test
    void ipcUsesOnlyJournalAndRouting()
    {
        assertUsesOnly("ipc", "journal", "routing");
    }

    @Test
    void onlyTheRootAndTheCliUseTheRoot()
    {
        BROKER_ARROWS.forEach((pkg, uses) ->
        {
            if (!pkg.equals(BROKER) && !pkg.equals(BROKER + ".cli"))
            {
                assertFalse(uses.contains(BROKER), pkg + " uses the root package");
            }
            assertFalse(uses.contains(BROKER + ".cli"), pkg + " uses cli");
        });
    }

    @Test
    void noCyclesBetweenPackages()
    {
        final Map<String, Integer> state = new HashMap<>();
        for (final String pkg : BROKER_ARROWS.keySet())
        {
            final List<String> path = new ArrayList<>();
            assertEquals(List.of(), cycleFrom(pkg, state, path), "a cycle between packages");
        }
    }

    /** Depth-first search; returns the cycle found (its packages in order), else an empty list. */
    private static List<String> cycleFrom(final String pkg, final Map<String, Integer> state, final List<String> path)
    {
        final Integer seen = state.get(pkg);
        if (seen != null)
        {
            return seen == 1 ? new ArrayList<>(path.subList(path.indexOf(pkg), path.size())) : List.of();
        }
        state.put(pkg, 1);
        path.add(pkg);
        for (final String used : BROKER_ARROWS.getOrDefault(pkg, Set.of()))
        {
            if (BROKER_ARROWS.containsKey(used))
            {
                final List<String> cycle = cycleFrom(used, state, path);
                if (!cycle.isEmpty())
                {
                    return cycle;
                }
            }
        }
        path.remove(path.size() - 1);
        state.put(pkg, 2);
        return List.of();
    }

    private static void assertOnlyIn(final String library, final String... allowed)
    {
        BROKER_ARROWS.forEach((pkg, uses) ->
            assertTrue(List.of(allowed).contains(pkg) || !uses.contains(library), pkg + " uses " + library));
    }

    /** The broker package {@code name} uses no other skylark package than {@code allowed} (short names). */
    private static void assertUsesOnly(final String name, final String... allowed)
    {
        final Set<String> permitted = new HashSet<>();
        for (final String a : allowed)
        {
            permitted.add(a.equals("codec") ? CODEC : BROKER + "." + a);
        }
        final Set<String> uses = BROKER_ARROWS.get(BROKER + "." + name);
        assertTrue(uses != null, "package " + name + " has classes");
        final Set<String> unexpected = new TreeSet<>();
        for (final String used : uses)
        {
            final boolean skylark = used.startsWith("dev.skylark.");
            final boolean ok = used.startsWith(CODEC) ? permitted.contains(CODEC) : permitted.contains(used);
            if (skylark && !ok)
            {
                unexpected.add(used);
            }
        }
        assertEquals(Set.of(), unexpected, BROKER + "." + name + " uses packages it must not");
    }

    private static Path classesOf(final Class<?> type) throws URISyntaxException
    {
        return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    private static void read(final Path root, final Map<String, Set<String>> arrows) throws IOException
    {
        try (Stream<Path> files = Files.walk(root))
        {
            for (final Path file : (Iterable<Path>)files.filter((p) -> p.toString().endsWith(".class"))::iterator)
            {
                final String pkg = root.relativize(file.getParent()).toString().replace('/', '.');
                final Set<String> uses = arrows.computeIfAbsent(pkg, (k) -> new TreeSet<>());
                for (final String name : classNames(file))
                {
                    final String used = packageOf(name);
                    if (!used.equals(pkg) && !used.isEmpty())
                    {
                        uses.add(used);
                    }
                }
            }
        }
    }

    /** What a referenced class counts as: its package for skylark, its library root (two names) otherwise. */
    private static String packageOf(final String internalName)
    {
        final String dotted = internalName.replace('/', '.');
        final int last = dotted.lastIndexOf('.');
        if (last < 0)
        {
            return "";
        }
        if (dotted.startsWith("dev.skylark."))
        {
            return dotted.substring(0, last);
        }
        final String[] parts = dotted.split("\\.");
        return parts.length > 2 ? parts[0] + "." + parts[1] : dotted.substring(0, last);
    }

    /** The internal names of the classes a class file refers to, read from its constant pool. */
    static Set<String> classNames(final Path classFile) throws IOException
    {
        try (InputStream raw = Files.newInputStream(classFile); DataInputStream in = new DataInputStream(raw))
        {
            if (in.readInt() != 0xCAFEBABE)
            {
                throw new IOException("not a class file: " + classFile);
            }
            in.readUnsignedShort(); // minor
            in.readUnsignedShort(); // major
            final int count = in.readUnsignedShort();
            final String[] utf8 = new String[count];
            final Set<Integer> classEntries = new HashSet<>();
            final Set<Integer> stringEntries = new HashSet<>();
            for (int i = 1; i < count; i++)
            {
                final int tag = in.readUnsignedByte();
                switch (tag)
                {
                    case 1 -> utf8[i] = in.readUTF();
                    case 3, 4 -> in.readInt();
                    case 5, 6 ->
                    {
                        in.readLong();
                        i++; // takes two entries
                    }
                    case 7 -> classEntries.add(in.readUnsignedShort());
                    case 8 -> stringEntries.add(in.readUnsignedShort());
                    case 16, 19, 20 -> in.readUnsignedShort();
                    case 15 ->
                    {
                        in.readUnsignedByte();
                        in.readUnsignedShort();
                    }
                    case 9, 10, 11, 12, 17, 18 -> in.readInt();
                    default -> throw new IOException("constant pool tag " + tag + " in " + classFile);
                }
            }
            final Set<String> names = new HashSet<>();
            for (int i = 1; i < count; i++)
            {
                if (utf8[i] == null || stringEntries.contains(i))
                {
                    continue;
                }
                if (classEntries.contains(i))
                {
                    final String name = utf8[i];
                    names.add(name.startsWith("[") ? name.replaceAll("^\\[+L?", "").replace(";", "") : name);
                }
                final Matcher descriptor = DESCRIPTOR_CLASS.matcher(utf8[i]);
                while (descriptor.find())
                {
                    names.add(descriptor.group(1));
                }
            }
            return names;
        }
    }
}
