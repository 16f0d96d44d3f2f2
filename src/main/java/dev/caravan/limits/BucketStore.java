package dev.caravan.limits;

import io.vertx.core.Future;

/** Where the buckets live: this process ({@link MemoryBuckets}) or Redis, shared by every instance ({@link RedisBuckets}). */
public interface BucketStore {

    /**
     * Admission: takes one request and {@code tokens} tokens when both buckets allow it, or nothing at all.
     * Never blocks; a store that cannot answer fails the future.
     */
    Future<Admission> take(Limits limits, long tokens);

    /** Settlement: gives {@code tokens} back to the token bucket (negative: charges more), never refusing. */
    Future<Void> giveBack(Limits limits, long tokens);

    /** "memory" or "redis". */
    String kind();
}
