package dev.skylark.broker.hook;

/** The hook's answer cannot be used: not JSON, not an array of messages, a field of the wrong type, too large. */
final class MalformedAnswerException extends Exception
{
    private static final long serialVersionUID = 1L;

    MalformedAnswerException(final String message)
    {
        super(message, null, false, false);
    }
}
