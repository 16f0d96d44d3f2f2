package dev.caravan.limits;

import io.vertx.core.Future;

/** Where the buckets live: this process ({@link MemoryBuckets}) or Redis, shared by every instance ({@link RedisBuckets}). */
public interface BucketStore {

    /**
     * Admission: takes one request and {@code tokens} tokens when both buckets allow it, or nothing at all; the
     * tokens are held under {@code hold} (a {@link TokenReservation#id()}, or null) until settled. Never blocks; a
     * store that cannot answer fails the future.
     */
    Future<Admission> take(Limits limits, long tokens, String hold);

    /**
     * Settlement of a hold of {@code reserved} tokens of which {@code used} were used: the token bucket gets the
     * difference back (or is charged it, when more was used), never refusing.
     */
    Future<Void> settle(Limits limits, String hold, long reserved, long used);

    /** "memory" or "redis". */
    String kind();
}
