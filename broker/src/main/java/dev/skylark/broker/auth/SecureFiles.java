package dev.skylark.broker.auth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Owner-only files in the data directory, replaced atomically (write a temporary file, then rename). */
final class SecureFiles
{
    private SecureFiles()
    {
    }

    static void ensureDirectory(final Path dir)
    {
        try
        {
            if (!Files.isDirectory(dir))
            {
                Files.createDirectories(dir);
                setPermissions(dir, "rwx------");
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot create " + dir + ": " + ex.getMessage(), ex);
        }
    }

    /** Writes the text to the file with permissions 0600, replacing it atomically. */
    static void writeOwnerOnly(final Path file, final String text)
    {
        ensureDirectory(file.toAbsolutePath().getParent());
        final Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try
        {
            Files.deleteIfExists(tmp);
            try
            {
                Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            }
            catch (final UnsupportedOperationException ex)
            {
                Files.createFile(tmp); // not a POSIX file system
            }
            catch (final FileAlreadyExistsException ex)
            {
                // lost a race with another writer: overwrite below
            }
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot write " + file + ": " + ex.getMessage(), ex);
        }
    }

    private static void setPermissions(final Path path, final String permissions) throws IOException
    {
        try
        {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
        }
        catch (final UnsupportedOperationException ignore)
        {
            // not a POSIX file system
        }
    }
}
