package dev.skylark.broker.journal;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Files that hold payloads (journal, Aeron buffers, counters) are readable by their owner only: 0600 files and 0700
 * directories, applied where POSIX permissions exist (no-op elsewhere).
 */
public final class OwnerOnly
{
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");

    private OwnerOnly()
    {
    }

    /** Creates the directory and missing parents; the directory itself (new or not) becomes 0700. */
    public static void createDirectories(final Path dir) throws IOException
    {
        Files.createDirectories(dir);
        restrictDirectory(dir);
    }

    public static void restrictDirectory(final Path dir) throws IOException
    {
        if (POSIX)
        {
            Files.setPosixFilePermissions(dir, DIRECTORY);
        }
    }

    public static void restrictFile(final Path file) throws IOException
    {
        if (POSIX)
        {
            Files.setPosixFilePermissions(file, FILE);
        }
    }

    /** Every directory under {@code root} (included) becomes 0700 and every file 0600. */
    public static void restrictTree(final Path root) throws IOException
    {
        if (!POSIX || !Files.exists(root))
        {
            return;
        }
        try (var walk = Files.walk(root))
        {
            for (final Path p : (Iterable<Path>)walk::iterator)
            {
                if (Files.isDirectory(p))
                {
                    restrictDirectory(p);
                }
                else if (Files.isRegularFile(p))
                {
                    restrictFile(p);
                }
            }
        }
    }
}
