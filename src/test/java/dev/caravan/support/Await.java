package dev.caravan.support;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.fail;

/** Waiting on what the gateway does in its own time (a reload, a DLQ entry written after the reply), by polling. */
public final class Await {

    private Await() {
    }

    /** Polls until the condition holds on the latest value; fails with that value when the deadline passes. */
    public static <T> T value(String what, Supplier<T> poll, Predicate<T> done, Duration deadline) {
        long end = System.nanoTime() + deadline.toNanos();
        T last = poll.get();
        while (!done.test(last)) {
            if (System.nanoTime() - end > 0) {
                fail(what + " within " + deadline + "; last seen: " + describe(last));
            }
            LockSupport.parkNanos(20_000_000);
            last = poll.get();
        }
        return last;
    }

    /** A value as a failure message shows it: an HTTP response as its status and body. */
    public static String describe(Object value) {
        if (value instanceof HttpResponse<?> r) {
            return r.statusCode() + " " + r.body();
        }
        return String.valueOf(value);
    }
}
