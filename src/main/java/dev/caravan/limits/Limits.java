package dev.caravan.limits;

/**
 * The token buckets one caller is held to. {@code id} names the buckets (a key's hash prefix, or "anonymous");
 * a capacity of 0 means no such limit.
 *
 * @param requestCapacity burst: requests that may pass at once
 * @param requestsPerMin  refill of the request bucket
 * @param tokenCapacity   tokens-per-min: the token bucket holds one minute's worth
 * @param tokensPerMin    refill of the token bucket
 */
public record Limits(String id, String label, long requestCapacity, long requestsPerMin, long tokenCapacity,
                     long tokensPerMin) {

    public boolean limitsRequests() {
        return requestCapacity > 0 && requestsPerMin > 0;
    }

    public boolean limitsTokens() {
        return tokenCapacity > 0 && tokensPerMin > 0;
    }

    public boolean any() {
        return limitsRequests() || limitsTokens();
    }

    /** The same limits with the request bucket left alone (a request already counted once). */
    public Limits withoutRequestLimit() {
        return new Limits(id, label, 0, 0, tokenCapacity, tokensPerMin);
    }

    /** Milliseconds until a bucket at {@code level} is full again. */
    static long millisToFull(double level, long capacity, long perMin) {
        if (capacity <= 0 || perMin <= 0 || level >= capacity) {
            return 0;
        }
        return (long) Math.ceil((capacity - level) * 60_000.0 / perMin);
    }

    public long requestResetMillis(double level) {
        return millisToFull(level, requestCapacity, requestsPerMin);
    }

    public long tokenResetMillis(double level) {
        return millisToFull(level, tokenCapacity, tokensPerMin);
    }
}
