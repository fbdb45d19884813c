package dev.skylark.broker.hook;

/** What happens to a batch when the hook answers with an error, too late, or with something unreadable. */
public enum HookPolicy
{
    /** Dropped and counted; QoS 1/2 publishers get PUBACK/PUBREC 0x80 Unspecified error. */
    FAIL_CLOSED("fail-closed"),
    /** Delivered unchanged, as if there were no hook. */
    FAIL_OPEN("fail-open");

    private final String settingValue;

    HookPolicy(final String settingValue)
    {
        this.settingValue = settingValue;
    }

    /** The name used in {@code skylark.hook.publish.policy}. */
    public String settingValue()
    {
        return settingValue;
    }

    public static HookPolicy named(final String value)
    {
        for (final HookPolicy policy : values())
        {
            if (policy.settingValue.equals(value))
            {
                return policy;
            }
        }
        throw new IllegalArgumentException("unknown hook policy '" + value + "' (fail-closed or fail-open)");
    }
}
