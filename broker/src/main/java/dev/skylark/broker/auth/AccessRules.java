package dev.skylark.broker.auth;

import dev.skylark.codec.mqtt.Topics;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A broker-wide rules file ({@code skylark.acl.file}), parsed and checked: ordered {@link AccessRule}s, the first
 * that decides wins, else the default. Immutable, shared by every thread; each connection compiles the rules that
 * apply to it once ({@link #forClient}, at CONNECT and after a reload) into a {@link ClientAccess}.
 * <p>
 * Two formats: Skylark's ({@code allow|deny publish|subscribe|both <who> <filter>}, see docs/authorization.md) and
 * Mosquitto's {@code acl_file} ({@code user}, {@code topic [read|write|readwrite|deny] <topic>}, {@code pattern}).
 * Anything not understood is refused with the file, the line and why.
 */
public final class AccessRules
{
    /** The rules file's format ({@code skylark.acl.format}). */
    public enum Format
    {
        /** Mosquitto when the first rule line starts with {@code user}, {@code topic} or {@code pattern}. */
        AUTO,
        SKYLARK,
        MOSQUITTO
    }

    /** No file: everything allowed (the token's {@code acl} still applies). */
    public static final AccessRules ALLOW_ALL = new AccessRules("(none)", List.of(), true);

    private final String file;
    private final List<AccessRule> rules;
    private final boolean defaultAllow;

    AccessRules(final String file, final List<AccessRule> rules, final boolean defaultAllow)
    {
        this.file = file;
        this.rules = List.copyOf(rules);
        this.defaultAllow = defaultAllow;
    }

    public List<AccessRule> rules()
    {
        return rules;
    }

    public boolean defaultAllow()
    {
        return defaultAllow;
    }

    /** Where the rules came from. */
    public String file()
    {
        return file;
    }

    /** True when no file is configured (everything allowed). */
    public boolean none()
    {
        return this == ALLOW_ALL;
    }

    /** The rules that apply to this identity, with {@code %c} and {@code %u} substituted; allocates (CONNECT). */
    public ClientAccess forClient(final String clientId, final String userName)
    {
        return new ClientAccess(this, clientId, userName);
    }

    /**
     * Reads and checks a rules file.
     *
     * @throws AccessRulesException naming the file, the line and why, on anything not understood.
     */
    public static AccessRules read(final Path file, final Format format, final boolean defaultAllow)
    {
        final List<String> lines;
        try
        {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        }
        catch (final IOException | RuntimeException ex)
        {
            throw new AccessRulesException(file + ": cannot read the rules file: " + ex);
        }
        return parse(file.toString(), lines, format, defaultAllow);
    }

    /** Parses rules text; {@code name} is the file name used in messages and rule sources. */
    public static AccessRules parse(
        final String name, final List<String> lines, final Format format, final boolean defaultAllow)
    {
        Format chosen = format;
        if (chosen == Format.AUTO)
        {
            chosen = Format.SKYLARK;
            for (final String raw : lines)
            {
                final String line = raw.strip();
                if (line.isEmpty() || line.startsWith("#"))
                {
                    continue;
                }
                final String word = firstWord(line).toLowerCase(Locale.ROOT);
                if (word.equals("user") || word.equals("topic") || word.equals("pattern"))
                {
                    chosen = Format.MOSQUITTO;
                }
                break;
            }
        }
        final List<AccessRule> rules = chosen == Format.MOSQUITTO ?
            parseMosquitto(name, lines) : parseSkylark(name, lines);
        // Mosquitto denies what no line allows once an acl_file is set; Skylark's own format uses the setting.
        return new AccessRules(name, rules, chosen != Format.MOSQUITTO && defaultAllow);
    }

    private static List<AccessRule> parseSkylark(final String name, final List<String> lines)
    {
        final List<AccessRule> rules = new ArrayList<>();
        for (int n = 0; n < lines.size(); n++)
        {
            final String line = lines.get(n).strip();
            if (line.isEmpty() || line.startsWith("#"))
            {
                continue;
            }
            final String source = name + ":" + (n + 1);
            final String[] words = line.split("\\s+", 4);
            if (words.length < 4)
            {
                throw error(source, "expected '<allow|deny> <publish|subscribe|both> <who> <topic filter>', got '" +
                    line + "'");
            }
            final boolean allow;
            switch (words[0].toLowerCase(Locale.ROOT))
            {
                case "allow":
                    allow = true;
                    break;
                case "deny":
                    allow = false;
                    break;
                default:
                    throw error(source, "'" + words[0] + "' is not allow or deny");
            }
            final int actions;
            switch (words[1].toLowerCase(Locale.ROOT))
            {
                case "publish":
                case "pub":
                    actions = AccessRule.PUBLISH;
                    break;
                case "subscribe":
                case "sub":
                    actions = AccessRule.SUBSCRIBE;
                    break;
                case "both":
                case "all":
                    actions = AccessRule.PUBLISH | AccessRule.SUBSCRIBE;
                    break;
                default:
                    throw error(source, "'" + words[1] + "' is not publish, subscribe or both");
            }
            final String who = words[2];
            final AccessRule.Who kind;
            String subject = null;
            if (who.equals("all") || who.equals("*"))
            {
                kind = AccessRule.Who.ANYONE;
            }
            else if (who.equals("anonymous"))
            {
                kind = AccessRule.Who.ANONYMOUS;
            }
            else if (who.startsWith("user:") && who.length() > 5)
            {
                kind = AccessRule.Who.USER;
                subject = who.substring(5);
            }
            else if (who.startsWith("client:") && who.length() > 7)
            {
                kind = AccessRule.Who.CLIENT;
                subject = who.substring(7);
            }
            else if (who.startsWith("user~") && who.length() > 5)
            {
                kind = AccessRule.Who.USER_PATTERN;
                subject = who.substring(5);
            }
            else if (who.startsWith("client~") && who.length() > 7)
            {
                kind = AccessRule.Who.CLIENT_PATTERN;
                subject = who.substring(7);
            }
            else
            {
                throw error(source, "'" + who + "' is not all, anonymous, user:<name>, client:<id>, user~<glob> " +
                    "or client~<glob>");
            }
            final String filter = words[3].strip();
            checkFilter(source, filter, actions);
            rules.add(new AccessRule(source, allow, actions, kind, subject, filter));
        }
        return rules;
    }

    /**
     * Mosquitto's {@code acl_file}, in the order Mosquitto 2 checks it: the client's user (or anonymous) lines before
     * the patterns, and within each the {@code deny} lines first; then the first line granting the access decides.
     * Topic lines before any {@code user} line are for clients without a user name.
     */
    private static List<AccessRule> parseMosquitto(final String name, final List<String> lines)
    {
        final List<AccessRule> topicRules = new ArrayList<>();
        final List<AccessRule> patternRules = new ArrayList<>();
        String user = null;
        for (int n = 0; n < lines.size(); n++)
        {
            final String line = lines.get(n).strip();
            if (line.isEmpty() || line.startsWith("#"))
            {
                continue;
            }
            final String source = name + ":" + (n + 1);
            final String keyword = firstWord(line);
            final String rest = line.substring(keyword.length()).strip();
            switch (keyword)
            {
                case "user":
                    if (rest.isEmpty())
                    {
                        throw error(source, "'user' without a user name");
                    }
                    user = rest;
                    break;
                case "topic":
                case "pattern":
                {
                    if (rest.isEmpty())
                    {
                        throw error(source, "'" + keyword + "' without a topic");
                    }
                    final String access = firstWord(rest);
                    String topic = rest;
                    int actions = AccessRule.PUBLISH | AccessRule.SUBSCRIBE;
                    boolean allow = true;
                    final String afterAccess = rest.substring(access.length()).strip();
                    if (!afterAccess.isEmpty())
                    {
                        switch (access)
                        {
                            case "read":
                                actions = AccessRule.SUBSCRIBE;
                                break;
                            case "write":
                                actions = AccessRule.PUBLISH;
                                break;
                            case "readwrite":
                                break;
                            case "deny":
                                allow = false;
                                break;
                            default:
                                throw error(source, "access '" + access + "' is not read, write, readwrite or deny");
                        }
                        topic = afterAccess;
                    }
                    else if (access.equals("read") || access.equals("write") || access.equals("readwrite") ||
                        access.equals("deny"))
                    {
                        throw error(source, "'" + keyword + " " + access + "' without a topic");
                    }
                    checkFilter(source, topic, actions);
                    if (keyword.equals("pattern"))
                    {
                        patternRules.add(new AccessRule(source, allow, actions, AccessRule.Who.ANYONE, null, topic));
                    }
                    else if (user == null)
                    {
                        topicRules.add(new AccessRule(source, allow, actions, AccessRule.Who.ANONYMOUS, null, topic));
                    }
                    else
                    {
                        topicRules.add(new AccessRule(source, allow, actions, AccessRule.Who.USER, user, topic));
                    }
                    break;
                }
                default:
                    throw error(source, "'" + keyword + "' is not supported (Mosquitto acl_file: user, topic, " +
                        "pattern; see docs/authorization.md)");
            }
        }
        // Mosquitto 2 puts deny lines first: a matching deny wins over any allow; user lines before patterns.
        final List<AccessRule> rules = new ArrayList<>();
        denyFirst(topicRules, rules);
        denyFirst(patternRules, rules);
        return rules;
    }

    private static void denyFirst(final List<AccessRule> from, final List<AccessRule> to)
    {
        from.stream().filter((rule) -> !rule.allow()).forEach(to::add);
        from.stream().filter(AccessRule::allow).forEach(to::add);
    }

    private static void checkFilter(final String source, final String filter, final int actions)
    {
        final String probe = filter.replace("%c", "c").replace("%u", "u");
        final String inner;
        if (probe.startsWith("$share/"))
        {
            final int slash = probe.indexOf('/', "$share/".length());
            if (slash < 0 || slash == "$share/".length() || slash == probe.length() - 1)
            {
                throw error(source, "'" + filter + "' is not $share/<group or +>/<filter>");
            }
            final String group = probe.substring("$share/".length(), slash);
            if (!group.equals("+") && (group.indexOf('#') >= 0 || group.indexOf('+') >= 0))
            {
                throw error(source, "'" + filter + "': a group is a name or '+' (any group)");
            }
            if (actions != AccessRule.SUBSCRIBE)
            {
                throw error(source, "'" + filter + "': a $share/ rule is about subscribing only");
            }
            inner = probe.substring(slash + 1);
        }
        else
        {
            inner = probe;
        }
        final UnsafeBuffer buffer = new UnsafeBuffer(inner.getBytes(StandardCharsets.UTF_8));
        if (inner.isEmpty() || Topics.validateTopicFilter(buffer, 0, buffer.capacity()) < 0 ||
            Topics.isShared(buffer, 0, buffer.capacity()))
        {
            throw error(source, "'" + filter + "' is not a valid topic filter");
        }
    }

    private static String firstWord(final String line)
    {
        int end = 0;
        while (end < line.length() && !Character.isWhitespace(line.charAt(end)))
        {
            end++;
        }
        return line.substring(0, end);
    }

    private static AccessRulesException error(final String source, final String why)
    {
        return new AccessRulesException(source + ": " + why);
    }
}
