package dev.caravan.resilience;

import dev.caravan.openai.OpenAiError;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.core.impl.NoStackTraceTimeoutException;
import org.apache.camel.component.direct.DirectConsumerNotAvailableException;
import org.apache.camel.processor.ThrottlerRejectedExecutionException;

/**
 * What a failed upstream call means for what happens next: whether it counts against the backend's circuit,
 * whether calling the same backend again may help, and whether another model may serve instead.
 */
public final class Failures {

    private Failures() {
    }

    /**
     * A failure of the backend, not of the request: no answer, a timeout, 5xx (and the upstream's auth failures,
     * which the client sees as 502). Not: the backend's verdict on a bad request (400, 404, 413, 422); a 429, which
     * is a quota (often one tenant's) and is retried after its retry-after; and the gateway's own local failures
     * (see {@link #isLocal}), which say nothing of the upstream.
     */
    public static boolean countsAgainstBackend(Throwable failure) {
        if (failure == null || isLocal(failure)) {
            return false;
        }
        if (failure instanceof OpenAiError error) {
            return error.status() == 502 || error.status() == 504;
        }
        return true;
    }

    /**
     * A failure of this gateway, not of the upstream: out of file handles, its connection pool to the upstream full
     * or a pooled connection not had in time, or an internal error.
     */
    public static boolean isLocal(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ConnectionPoolTooBusyException
                    || t instanceof OpenAiError error && "internal_error".equals(error.code())) {
                return true;
            }
            String message = t.getMessage();
            if (message != null && (message.contains("Too many open files")
                    || t instanceof NoStackTraceTimeoutException && message.contains("getting a connection"))) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    /** Another call to the same backend may succeed: connect errors, closed connections, 429, 500, 502, 503, 504. */
    public static boolean retryable(Throwable failure) {
        return failure instanceof UpstreamFailure upstream && upstream.retryable();
    }

    /** The upstream's retry-after in milliseconds, or -1. */
    public static long retryAfterMillis(Throwable failure) {
        return failure instanceof UpstreamFailure upstream ? upstream.retryAfterMillis() : -1;
    }

    /**
     * Another model (on its own backend) may serve: the backend failed after its retries, timed out, has its circuit
     * open, its lane is full, or it does not know the model (404). A request the upstream judged bad (400, 413)
     * would be just as bad elsewhere, and an unexpected failure of the gateway itself is reported, not hidden.
     */
    public static boolean mayFallBack(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof OpenAiError error) {
                return error.status() >= 500 && !"internal_error".equals(error.code()) || error.status() == 429
                        || error.status() == 404 && t instanceof UpstreamFailure;
            }
            if (t instanceof ThrottlerRejectedExecutionException || t instanceof DirectConsumerNotAvailableException) {
                return true; // the lane is at its cap, or it is being made or removed
            }
        }
        return false;
    }
}
