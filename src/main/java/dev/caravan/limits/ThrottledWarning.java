package dev.caravan.limits;

import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;

/** A WARN that repeats at most once per interval: a Redis outage must not flood the log with one line a request. */
public final class ThrottledWarning {

    private final Logger log;
    private final long intervalNanos;
    private final AtomicLong next = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong suppressed = new AtomicLong();

    public ThrottledWarning(Logger log, long intervalMillis) {
        this.log = log;
        this.intervalNanos = intervalMillis * 1_000_000L;
    }

    public void warn(String message, Throwable cause) {
        long now = System.nanoTime();
        long due = next.get();
        if ((due != Long.MIN_VALUE && now - due < 0) || !next.compareAndSet(due, now + intervalNanos)) {
            suppressed.incrementAndGet();
            return;
        }
        long quiet = suppressed.getAndSet(0);
        log.warn("{}: {}{}", message, cause == null ? "unknown cause" : cause.toString(),
                quiet > 0 ? " (" + quiet + " more since the last warning)" : "");
    }
}
