package dev.caravan.resilience;

import java.util.concurrent.ThreadLocalRandom;

import dev.caravan.config.RetrySettings;

/**
 * How often and how long apart the gateway calls a failing upstream again: at most {@code maxAttempts} calls in
 * all, exponential backoff with full jitter between them (a uniform wait in [0, min(maxDelay, base·2ⁿ⁻¹)], so a
 * crowd of clients failing together does not come back together), and an upstream's own retry-after honoured:
 * waited in full when it is at most maxDelay, otherwise not retried at all (the client gets it instead).
 *
 * @param maxAttempts      calls in all, the first included (1 = no retries)
 * @param baseDelayMillis  backoff ceiling after the first failure; doubles with each further one
 * @param maxDelayMillis   longest wait between two attempts, retry-after included
 */
public record RetryPolicy(int maxAttempts, long baseDelayMillis, long maxDelayMillis) {

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("retry max-attempts must be at least 1, not " + maxAttempts);
        }
        if (baseDelayMillis < 0 || maxDelayMillis < 0) {
            throw new IllegalArgumentException("retry delays must not be negative");
        }
    }

    /** The policy of a backend's retry settings (gateway.yaml, defaults filled in). */
    public static RetryPolicy of(RetrySettings settings) {
        RetrySettings s = settings != null ? settings : RetrySettings.BUILT_IN;
        return new RetryPolicy(s.maxAttempts(), s.baseDelayMs(), s.maxDelayMs());
    }

    /**
     * Milliseconds to wait after attempt {@code attempt} (1 = the first call) failed before the next one, or -1
     * when there is no next one.
     *
     * @param retryAfterMillis the upstream's retry-after, or -1 when it sent none
     */
    public long delayAfter(int attempt, long retryAfterMillis) {
        if (attempt >= maxAttempts) {
            return -1;
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        if (retryAfterMillis >= 0) {
            if (retryAfterMillis > maxDelayMillis) {
                return -1; // longer than we wait for anyone: the caller (or a fallback) gets the retry-after
            }
            // at least what the upstream asked, plus a little jitter so the waiting crowd does not return at once
            return retryAfterMillis + random.nextLong(Math.min(baseDelayMillis, maxDelayMillis - retryAfterMillis) + 1);
        }
        return random.nextLong(ceilingAfter(attempt) + 1);
    }

    /** The longest backoff after attempt {@code attempt}: min(maxDelay, base·2^(attempt-1)). */
    public long ceilingAfter(int attempt) {
        int doublings = Math.max(0, attempt - 1);
        if (doublings >= 62 || baseDelayMillis > (maxDelayMillis >> Math.min(doublings, 62))) {
            return maxDelayMillis;
        }
        return Math.min(maxDelayMillis, baseDelayMillis << doublings);
    }
}
