package dev.caravan.pipelines;

import java.util.List;

import org.apache.camel.AsyncCallback;
import org.apache.camel.AsyncProducer;
import org.apache.camel.Exchange;

/**
 * Sends one exchange through several routes in turn, each after the last completed (synchronously or not), as a
 * pipeline of {@code to:} steps would; a failure or a stop ends the run there, and the step that started it sees it.
 */
final class SequentialCalls {

    private SequentialCalls() {
    }

    /** Runs {@code producers} in order; calls {@code callback.done} once; answers whether all ran synchronously. */
    static boolean run(Exchange exchange, List<AsyncProducer> producers, AsyncCallback callback) {
        return runFrom(exchange, producers, 0, callback, true);
    }

    private static boolean runFrom(Exchange exchange, List<AsyncProducer> producers, int first, AsyncCallback callback,
            boolean sync) {
        int i = first;
        while (i < producers.size() && proceeds(exchange)) {
            int next = i + 1;
            boolean doneSync = producers.get(i).process(exchange, done -> {
                if (!done) {
                    runFrom(exchange, producers, next, callback, false);
                }
            });
            if (!doneSync) {
                return false;
            }
            i = next;
        }
        callback.done(sync);
        return sync;
    }

    private static boolean proceeds(Exchange exchange) {
        return exchange.getException() == null && !exchange.isRouteStop() && !exchange.isRollbackOnly();
    }
}
