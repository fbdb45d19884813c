package dev.skylark.broker.auth;

import dev.skylark.codec.mqtt.Topics;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The rules of one {@link AccessRules} that apply to one identity (client id, user name), with {@code %c} and
 * {@code %u} substituted, compiled once at CONNECT (and again after a reload). Immutable: the I/O thread asks it
 * about each PUBLISH and SUBSCRIBE, the routing agent about a session's subscriptions and queued messages.
 * <p>
 * {@link #publishRule} walks pre-built buffers and allocates nothing. A subscription is decided by the first rule
 * that either covers the requested filter (every topic it can match) or is a deny rule sharing a topic with it: a
 * filter that would reach a denied topic is refused whole, so whatever a subscription receives, retained messages
 * included, is allowed. A rule naming {@code $share/<group>/} (or {@code $share/+/}, any group) applies to shared
 * subscriptions only; a rule without it applies to plain and shared subscriptions alike.
 */
public final class ClientAccess
{
    /** No rule decided: the default applies. */
    public static final int DEFAULT = -1;

    private static final boolean[] NO_ALLOW = new boolean[0];
    private static final int[] NO_ACTIONS = new int[0];
    private static final String[] NO_STRINGS = new String[0];
    private static final UnsafeBuffer[] NO_FILTERS = new UnsafeBuffer[0];
    private static final String[][] NO_LEVELS = new String[0][];

    private final AccessRules rules;
    private final String clientId;
    private final String userName;
    private final boolean[] allow;
    private final int[] actions;
    private final String[] sources;
    private final UnsafeBuffer[] topicFilters;
    private final String[][] levels;
    /** The group a {@code $share/} rule names ("+" for any), or null for a plain rule. */
    private final String[] groups;

    ClientAccess(final AccessRules rules, final String clientId, final String userName)
    {
        this.rules = rules;
        this.clientId = clientId;
        this.userName = userName;
        final List<AccessRule> applicable = new ArrayList<>();
        final List<String> filters = new ArrayList<>();
        for (final AccessRule rule : rules.rules())
        {
            if (!rule.appliesTo(clientId, userName))
            {
                continue;
            }
            final String filter = substitute(rule, clientId, userName);
            if (filter != null)
            {
                applicable.add(rule);
                filters.add(filter);
            }
        }
        final int n = applicable.size();
        // no rule applies (always so without a rules file): the shared empty arrays, not six per connection
        allow = 0 == n ? NO_ALLOW : new boolean[n];
        actions = 0 == n ? NO_ACTIONS : new int[n];
        sources = 0 == n ? NO_STRINGS : new String[n];
        topicFilters = 0 == n ? NO_FILTERS : new UnsafeBuffer[n];
        levels = 0 == n ? NO_LEVELS : new String[n][];
        groups = 0 == n ? NO_STRINGS : new String[n];
        for (int i = 0; i < n; i++)
        {
            final AccessRule rule = applicable.get(i);
            String filter = filters.get(i);
            allow[i] = rule.allow();
            actions[i] = rule.actions();
            sources[i] = rule.toString();
            if (filter.startsWith(Topics.SHARE_PREFIX))
            {
                final int slash = filter.indexOf('/', Topics.SHARE_PREFIX.length());
                groups[i] = filter.substring(Topics.SHARE_PREFIX.length(), slash);
                filter = filter.substring(slash + 1);
            }
            topicFilters[i] = new UnsafeBuffer(filter.getBytes(StandardCharsets.UTF_8));
            levels[i] = filter.split("/", -1);
        }
    }

    /**
     * The rule's filter for this identity; null when the rule does not apply (it names {@code %u} and there is no
     * user name, or an allow rule would substitute a value holding a wildcard). A deny rule whose substitution
     * cannot be used denies everything ({@code #}): a client id such as {@code +} never slips past a deny.
     */
    private static String substitute(final AccessRule rule, final String clientId, final String userName)
    {
        final String filter = rule.filter();
        if (filter.indexOf('%') < 0)
        {
            return filter;
        }
        final boolean needsUser = filter.contains("%u");
        final boolean needsClient = filter.contains("%c");
        if (needsUser && userName == null)
        {
            return null;
        }
        if ((needsUser && !usable(userName)) || (needsClient && (clientId == null || !usable(clientId))))
        {
            return rule.allow() ? null : "#";
        }
        return filter.replace("%c", needsClient ? clientId : "%c").replace("%u", needsUser ? userName : "%u");
    }

    private static boolean usable(final String value)
    {
        return !value.isEmpty() && value.indexOf('+') < 0 && value.indexOf('#') < 0 && value.indexOf('/') < 0;
    }

    public AccessRules rules()
    {
        return rules;
    }

    public String clientId()
    {
        return clientId;
    }

    public String userName()
    {
        return userName;
    }

    /** Is the verdict of {@link #publishRule}/{@link #subscribeRule} an allow? */
    public boolean allowed(final int rule)
    {
        return rule == DEFAULT ? rules.defaultAllow() : allow[rule];
    }

    /** The rule as a log line names it ({@code file:line (allow|deny ...)}), or "the default". */
    public String describe(final int rule)
    {
        return rule == DEFAULT ? "the default (" + (rules.defaultAllow() ? "allow" : "deny") + ") of " +
            rules.file() : sources[rule];
    }

    /** Publish path, allocation-free: the index of the rule deciding a PUBLISH to this topic, or {@link #DEFAULT}. */
    public int publishRule(final DirectBuffer topic, final int offset, final int length)
    {
        final int[] actions = this.actions;
        for (int i = 0; i < actions.length; i++)
        {
            if ((actions[i] & AccessRule.PUBLISH) != 0 && groups[i] == null &&
                Topics.matches(topicFilters[i], 0, topicFilters[i].capacity(), topic, offset, length))
            {
                return i;
            }
        }
        return DEFAULT;
    }

    public boolean mayPublish(final DirectBuffer topic, final int offset, final int length)
    {
        return allowed(publishRule(topic, offset, length));
    }

    /** The index of the rule deciding a subscription to this (valid) filter, shared or not, or {@link #DEFAULT}. */
    public int subscribeRule(final String requested)
    {
        String group = null;
        String filter = requested;
        if (requested.startsWith(Topics.SHARE_PREFIX))
        {
            final int slash = requested.indexOf('/', Topics.SHARE_PREFIX.length());
            group = requested.substring(Topics.SHARE_PREFIX.length(), slash);
            filter = requested.substring(slash + 1);
        }
        final String[] wanted = filter.split("/", -1);
        for (int i = 0; i < actions.length; i++)
        {
            if ((actions[i] & AccessRule.SUBSCRIBE) == 0)
            {
                continue;
            }
            final String ruleGroup = groups[i];
            if (ruleGroup != null && (group == null || (!ruleGroup.equals("+") && !ruleGroup.equals(group))))
            {
                continue;
            }
            if (TopicAcl.covers(levels[i], wanted) || (!allow[i] && intersects(levels[i], wanted)))
            {
                return i;
            }
        }
        return DEFAULT;
    }

    public boolean maySubscribe(final String requested)
    {
        return allowed(subscribeRule(requested));
    }

    /**
     * May a message on this topic be delivered (a queued message re-checked after the rules changed)? The first
     * subscribe rule matching the topic decides.
     */
    public boolean mayReceive(final DirectBuffer topic, final int offset, final int length)
    {
        for (int i = 0; i < actions.length; i++)
        {
            if ((actions[i] & AccessRule.SUBSCRIBE) != 0 &&
                Topics.matches(topicFilters[i], 0, topicFilters[i].capacity(), topic, offset, length))
            {
                return allow[i];
            }
        }
        return rules.defaultAllow();
    }

    /** Can one topic match both filters (levels split on '/')? A leading wildcard never matches a '$' level. */
    static boolean intersects(final String[] a, final String[] b)
    {
        for (int i = 0; ; i++)
        {
            final boolean aEnd = i >= a.length;
            final boolean bEnd = i >= b.length;
            if (aEnd && bEnd)
            {
                return true;
            }
            if (aEnd)
            {
                return b[i].equals("#"); // 'x/#' matches 'x'
            }
            if (bEnd)
            {
                return a[i].equals("#");
            }
            final String x = a[i];
            final String y = b[i];
            if (i == 0 && ((isWildcard(x) && y.startsWith("$")) || (isWildcard(y) && x.startsWith("$"))))
            {
                return false;
            }
            if (x.equals("#") || y.equals("#"))
            {
                return true;
            }
            if (!x.equals("+") && !y.equals("+") && !x.equals(y))
            {
                return false;
            }
        }
    }

    private static boolean isWildcard(final String level)
    {
        return level.equals("+") || level.equals("#");
    }
}
