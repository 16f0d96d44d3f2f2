package dev.caravan.exchange;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Aborts an upstream call from outside: the client left, or the deadline passed. Adapters register how to
 * abort (reset the upstream request: a reset, unlike a close, does not drain the rest of the stream).
 */
public final class Cancellation {

    private final List<Consumer<Throwable>> actions = new ArrayList<>(2);
    private Throwable reason;

    public void onCancel(Consumer<Throwable> action) {
        Throwable now;
        synchronized (this) {
            now = reason;
            if (now == null) {
                actions.add(action);
            }
        }
        if (now != null) {
            action.accept(now);
        }
    }

    public void cancel(Throwable why) {
        List<Consumer<Throwable>> toRun;
        synchronized (this) {
            if (reason != null) {
                return;
            }
            reason = why;
            toRun = new ArrayList<>(actions);
            actions.clear();
        }
        toRun.forEach(a -> a.accept(why));
    }

    public synchronized Throwable reason() {
        return reason;
    }
}
