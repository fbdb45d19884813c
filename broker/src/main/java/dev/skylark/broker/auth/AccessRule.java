package dev.skylark.broker.auth;

import java.util.regex.Pattern;

/**
 * One line of a rules file, parsed: allow or deny, for publish and/or subscribe, for whom, on which topic filter
 * (which may hold {@code %c} and {@code %u}). Immutable; compiled per identity by {@link AccessRules#forClient}.
 *
 * @param source  {@code <file>:<line>}, named in log lines and reason strings.
 * @param allow   true for allow, false for deny.
 * @param actions {@link #PUBLISH}, {@link #SUBSCRIBE} or both.
 * @param who     whom it applies to.
 * @param subject the user name or client id ({@link Who#USER}, {@link Who#CLIENT}), the glob of the pattern kinds.
 * @param filter  the topic filter as written (a {@code $share/<group>/} prefix included).
 */
public record AccessRule(String source, boolean allow, int actions, Who who, String subject, String filter)
{
    public static final int PUBLISH = 1;
    public static final int SUBSCRIBE = 2;

    /** Whom a rule applies to. */
    public enum Who
    {
        /** Every client. */
        ANYONE,
        /** Clients without a user name (Mosquitto's topic lines before any {@code user} line). */
        ANONYMOUS,
        /** The client whose user name is {@code subject}. */
        USER,
        /** The client whose client id is {@code subject}. */
        CLIENT,
        /** Clients whose user name matches the glob {@code subject} ({@code *} any run, {@code ?} one char). */
        USER_PATTERN,
        /** Clients whose client id matches the glob {@code subject}. */
        CLIENT_PATTERN
    }

    /** Does the rule apply to this identity? ({@code userName} null when the connection has none.) */
    boolean appliesTo(final String clientId, final String userName)
    {
        switch (who)
        {
            case ANYONE:
                return true;
            case ANONYMOUS:
                return userName == null;
            case USER:
                return subject.equals(userName);
            case CLIENT:
                return subject.equals(clientId);
            case USER_PATTERN:
                return userName != null && glob(subject).matcher(userName).matches();
            case CLIENT_PATTERN:
                return clientId != null && glob(subject).matcher(clientId).matches();
            default:
                return false;
        }
    }

    static Pattern glob(final String glob)
    {
        final StringBuilder regex = new StringBuilder();
        for (int i = 0; i < glob.length(); i++)
        {
            final char c = glob.charAt(i);
            if (c == '*')
            {
                regex.append(".*");
            }
            else if (c == '?')
            {
                regex.append('.');
            }
            else
            {
                regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(regex.toString(), Pattern.DOTALL);
    }

    @Override
    public String toString()
    {
        return source + " (" + (allow ? "allow " : "deny ") +
            (actions == (PUBLISH | SUBSCRIBE) ? "both" : actions == PUBLISH ? "publish" : "subscribe") + " " +
            filter + ")";
    }
}
