package dev.caravan.resilience;

import dev.caravan.openai.OpenAiError;

/**
 * An upstream's failure as the client sees it (an {@link OpenAiError}), plus what the gateway needs to decide what
 * to do next: the upstream's own status (0 when no HTTP answer came: refused, unreachable, closed), whether
 * calling again may help, and how long the upstream asked us to wait (its {@code retry-after}).
 */
public final class UpstreamFailure extends OpenAiError {

    private final int upstreamStatus;
    private final boolean retryable;
    private final long retryAfterMillis;

    public UpstreamFailure(int status, String type, String code, String param, String message, long retryAfterSeconds,
                           Throwable cause, int upstreamStatus, boolean retryable, long retryAfterMillis) {
        super(status, type, code, param, message, retryAfterSeconds, cause);
        this.upstreamStatus = upstreamStatus;
        this.retryable = retryable;
        this.retryAfterMillis = retryAfterMillis;
    }

    /** The upstream's HTTP status; 0 when it gave none (connect error, connection closed). */
    public int upstreamStatus() {
        return upstreamStatus;
    }

    /** True for connect errors, closed connections and 429, 500, 502, 503, 504: another attempt may succeed. */
    public boolean retryable() {
        return retryable;
    }

    /** The upstream's retry-after (429, 503) in milliseconds; -1 when it did not send one. */
    public long retryAfterMillis() {
        return retryAfterMillis;
    }
}
