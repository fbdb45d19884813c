package dev.skylark.broker.hook;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/** Reads a response body into memory up to a limit; a longer one fails as malformed instead of filling the heap. */
final class BoundedBody implements HttpResponse.BodySubscriber<byte[]>
{
    private final long maxBytes;
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
    private Flow.Subscription subscription;

    BoundedBody(final long maxBytes)
    {
        this.maxBytes = maxBytes;
    }

    @Override
    public CompletionStage<byte[]> getBody()
    {
        return result;
    }

    @Override
    public void onSubscribe(final Flow.Subscription subscription)
    {
        this.subscription = subscription;
        subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(final List<ByteBuffer> items)
    {
        if (result.isDone())
        {
            return;
        }
        for (final ByteBuffer item : items)
        {
            if (out.size() + (long)item.remaining() > maxBytes)
            {
                subscription.cancel();
                result.completeExceptionally(new MalformedAnswerException("longer than " + maxBytes + " bytes"));
                return;
            }
            final byte[] chunk = new byte[item.remaining()];
            item.get(chunk);
            out.write(chunk, 0, chunk.length);
        }
    }

    @Override
    public void onError(final Throwable error)
    {
        result.completeExceptionally(error);
    }

    @Override
    public void onComplete()
    {
        result.complete(out.toByteArray());
    }
}
