package dev.caravan.api;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The request-body bytes all requests in flight may hold together (MAX_INFLIGHT_BODY_BYTES): MAX_BODY_BYTES bounds
 * each body, this bounds their sum, so many large uploads at once cannot exhaust the heap. A request reserves its
 * Content-Length (MAX_BODY_BYTES when chunked) before its body is read and gives it back when its reply ends.
 */
final class BodyBudget {

    private final long max;
    private final AtomicLong reserved = new AtomicLong();

    BodyBudget(long max) {
        this.max = max;
    }

    boolean reserve(long bytes) {
        if (reserved.addAndGet(bytes) > max) {
            reserved.addAndGet(-bytes);
            return false;
        }
        return true;
    }

    void release(long bytes) {
        reserved.addAndGet(-bytes);
    }

    long reserved() {
        return reserved.get();
    }
}
