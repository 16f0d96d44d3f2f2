package dev.caravan.limits;

/**
 * What the buckets said: whether the request may pass (else which bucket refused and how long until it would
 * pass), and the levels left after taking, for the x-ratelimit-* headers.
 */
public record Admission(Refusal refused, double requestsLeft, double tokensLeft, long waitMillis) {

    public enum Refusal { NONE, REQUESTS, TOKENS }

    public boolean allowed() {
        return refused == Refusal.NONE;
    }

    static Refusal refusal(long code) {
        return code == 1 ? Refusal.REQUESTS : code == 2 ? Refusal.TOKENS : Refusal.NONE;
    }
}
