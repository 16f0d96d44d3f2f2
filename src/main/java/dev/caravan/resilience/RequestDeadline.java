package dev.caravan.resilience;

import java.util.regex.Pattern;

import dev.caravan.exchange.Cancellation;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.Vertx;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.support.SynchronizationAdapter;

/**
 * Pre-hook step "deadline", the first of the pipeline: the whole request must be done within
 * PIPELINE_TIMEOUT_SECONDS of its arrival (a client may ask for less with {@code x-caravan-timeout-seconds}, never
 * for more). When the time is up, the request's {@link Cancellation} is cancelled with 504 deadline_exceeded: a
 * request waiting in a lane leaves it, a running upstream call is aborted (a started stream ends with an error
 * event), a retry or fallback is not begun. A Vert.x timer, cancelled when the exchange completes; nothing waits.
 */
public final class RequestDeadline implements Processor {

    /** Request header: a shorter deadline for this request, in seconds (decimals allowed). */
    public static final String HEADER = "x-caravan-timeout-seconds";
    private static final Pattern SECONDS = Pattern.compile("\\d{1,9}(\\.\\d{1,3})?");

    private final Vertx vertx;
    private final long timeoutMillis;

    /** @param timeoutSeconds the longest a request may take; 0 = no deadline unless the client asks for one */
    public RequestDeadline(Vertx vertx, long timeoutSeconds) {
        this.vertx = vertx;
        this.timeoutMillis = timeoutSeconds * 1000L;
    }

    @Override
    public void process(Exchange exchange) {
        long millis = timeoutMillis > 0 ? timeoutMillis : Long.MAX_VALUE;
        String asked = exchange.getMessage().getHeader(HEADER, String.class);
        if (asked != null && !asked.isBlank()) {
            if (!SECONDS.matcher(asked.trim()).matches() || Double.parseDouble(asked.trim()) <= 0) {
                throw OpenAiError.invalidRequest(null, "The header " + HEADER
                        + " must be a positive number of seconds, not " + OpenAiError.echo(asked));
            }
            millis = Math.min(millis, (long) Math.ceil(Double.parseDouble(asked.trim()) * 1000));
        }
        if (millis == Long.MAX_VALUE) {
            return;
        }
        Cancellation cancellation = exchange.getProperty(ExchangeKeys.CANCELLATION, Cancellation.class);
        if (cancellation == null) {
            cancellation = new Cancellation(); // a background task has no client connection to be tied to
            exchange.setProperty(ExchangeKeys.CANCELLATION, cancellation);
        }
        Long received = exchange.getProperty(ExchangeKeys.RECEIVED_NANOS, Long.class);
        long deadline = (received != null ? received : System.nanoTime()) + millis * 1_000_000L;
        exchange.setProperty(ExchangeKeys.DEADLINE_NANOS, deadline);
        long left = (deadline - System.nanoTime()) / 1_000_000L;
        long limit = millis;
        if (left <= 0) {
            OpenAiError expired = expired(limit);
            cancellation.cancel(expired);
            throw expired;
        }
        Cancellation toCancel = cancellation;
        long timer = vertx.setTimer(left, id -> toCancel.cancel(expired(limit)));
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                vertx.cancelTimer(timer);
            }
        });
    }

    private static OpenAiError expired(long millis) {
        String seconds = millis % 1000 == 0 ? Long.toString(millis / 1000) : Double.toString(millis / 1000.0);
        return OpenAiError.deadline("The request did not complete within its deadline of " + seconds + " s");
    }
}
