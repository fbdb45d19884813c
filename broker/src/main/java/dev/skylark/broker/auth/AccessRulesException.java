package dev.skylark.broker.auth;

/** A rules file that cannot be used, with where and why: {@code <file>:<line>: <why>}. */
public final class AccessRulesException extends RuntimeException
{
    public AccessRulesException(final String message)
    {
        super(message);
    }
}
