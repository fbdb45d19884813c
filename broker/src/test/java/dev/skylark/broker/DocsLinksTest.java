package dev.skylark.broker;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every relative link in README.md and docs/*.md resolves: the file (or folder) it names exists inside the
 * repository, and an anchor ({@code file.md#heading}, {@code #heading}) names a heading of that page, slugged the
 * way GitHub does. Links inside code spans and fenced blocks are not links. README links every docs page.
 */
class DocsLinksTest
{
    private static final Pattern LINK = Pattern.compile("!?\\[[^\\]]*\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
    private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+(.*?)\\s*#*\\s*$");
    private static final Pattern SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*:");

    @Test
    void everyRelativeLinkResolves() throws IOException
    {
        final Path root = repositoryRoot();
        final List<Path> pages = pages(root);
        assertTrue(pages.size() > 1, "README.md and docs/*.md found: " + pages);
        final List<String> broken = new ArrayList<>();
        for (final Path page : pages)
        {
            broken.addAll(brokenLinks(root, page));
        }
        assertEquals(List.of(), broken, "broken relative links");
    }

    @Test
    void readmeLinksEveryDocsPage() throws IOException
    {
        final Path root = repositoryRoot();
        final Set<Path> linked = new LinkedHashSet<>();
        for (final String target : links(Files.readString(root.resolve("README.md"))))
        {
            if (!SCHEME.matcher(target).find())
            {
                linked.add(root.resolve(target.split("#", 2)[0]).normalize());
            }
        }
        final List<String> missing = new ArrayList<>();
        for (final Path page : pages(root))
        {
            if (!page.getFileName().toString().equals("README.md") && !linked.contains(page.normalize()))
            {
                missing.add(root.relativize(page).toString());
            }
        }
        assertEquals(List.of(), missing, "docs pages README.md does not link");
    }

    /** The checker itself: a missing file, a missing anchor in another page and in the same page are all caught. */
    @Test
    void theCheckerCatchesBrokenLinks(@TempDir final Path root) throws IOException
    {
        Files.createDirectories(root.resolve("docs"));
        Files.writeString(root.resolve("docs/a.md"), "# Page A\n\n## Damage on disk: nothing `unreadable` is deleted\n" +
            "\n```\n# not a heading\n[not a link](missing-in-code.md)\n```\n");
        Files.writeString(root.resolve("README.md"), String.join("\n",
            "[ok](docs/a.md) [ok](docs/a.md#damage-on-disk-nothing-unreadable-is-deleted) [web](https://example.com/x)",
            "[ok](#top-heading) `[code](nope.md)` [ok dir](docs/)",
            "# Top heading",
            "[gone](docs/gone.md) [bad anchor](docs/a.md#not-a-heading) [bad self](#nowhere)",
            "[escapes](../outside.md)", ""));
        assertEquals(List.of(
            "README.md: docs/gone.md (no such file)",
            "README.md: docs/a.md#not-a-heading (no such heading)",
            "README.md: #nowhere (no such heading)",
            "README.md: ../outside.md (outside the repository)"), brokenLinks(root, root.resolve("README.md")));
        assertEquals(List.of(), brokenLinks(root, root.resolve("docs/a.md")));
    }

    static List<String> brokenLinks(final Path root, final Path page) throws IOException
    {
        final Map<Path, Set<String>> anchors = new HashMap<>();
        final List<String> broken = new ArrayList<>();
        final String name = root.relativize(page).toString();
        for (final String target : links(Files.readString(page)))
        {
            if (SCHEME.matcher(target).find() || target.startsWith("//"))
            {
                continue;
            }
            final String[] parts = target.split("#", 2);
            final Path file = parts[0].isEmpty() ? page : page.getParent().resolve(parts[0]).normalize();
            if (!file.startsWith(root.normalize()))
            {
                broken.add(name + ": " + target + " (outside the repository)");
            }
            else if (!Files.exists(file))
            {
                broken.add(name + ": " + target + " (no such file)");
            }
            else if (parts.length == 2 && file.toString().endsWith(".md") &&
                !anchors.computeIfAbsent(file, DocsLinksTest::anchorsOf).contains(parts[1]))
            {
                broken.add(name + ": " + target + " (no such heading)");
            }
        }
        return broken;
    }

    /** Link targets outside fenced blocks and code spans. */
    static List<String> links(final String markdown)
    {
        final List<String> targets = new ArrayList<>();
        boolean fenced = false;
        for (final String line : markdown.split("\n", -1))
        {
            if (line.stripLeading().startsWith("```"))
            {
                fenced = !fenced;
                continue;
            }
            if (fenced)
            {
                continue;
            }
            final Matcher matcher = LINK.matcher(line.replaceAll("`[^`]*`", "``"));
            while (matcher.find())
            {
                targets.add(matcher.group(1).replaceAll("^<|>$", ""));
            }
        }
        return targets;
    }

    /** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered -1, -2, .... */
    static Set<String> anchorsOf(final Path file)
    {
        final String text;
        try
        {
            text = Files.readString(file);
        }
        catch (final IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
        final Set<String> anchors = new LinkedHashSet<>();
        final Map<String, Integer> seen = new HashMap<>();
        boolean fenced = false;
        for (final String line : text.split("\n", -1))
        {
            if (line.stripLeading().startsWith("```"))
            {
                fenced = !fenced;
                continue;
            }
            final Matcher heading = HEADING.matcher(line);
            if (fenced || !heading.matches())
            {
                continue;
            }
            final String slug = heading.group(1).toLowerCase(Locale.ROOT)
                .replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
            final int count = seen.merge(slug, 1, Integer::sum);
            anchors.add(count == 1 ? slug : slug + "-" + (count - 1));
        }
        return anchors;
    }

    private static List<Path> pages(final Path root) throws IOException
    {
        final List<Path> pages = new ArrayList<>();
        pages.add(root.resolve("README.md"));
        try (Stream<Path> docs = Files.list(root.resolve("docs")))
        {
            docs.filter((p) -> p.getFileName().toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        return pages;
    }

    private static Path repositoryRoot()
    {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !(Files.isRegularFile(dir.resolve("README.md")) && Files.isDirectory(dir.resolve("docs"))))
        {
            dir = dir.getParent();
        }
        Assumptions.assumeTrue(dir != null, "README.md and docs/ not found above " + Path.of("").toAbsolutePath());
        return dir;
    }
}
