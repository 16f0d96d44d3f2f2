package dev.caravan.pipelines;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

import org.apache.camel.AsyncCallback;
import org.apache.camel.AsyncProducer;
import org.apache.camel.Exchange;

/**
 * Sends one exchange through a route of each of several pipeline versions in turn, each after the last completed
 * (synchronously or not), as a pipeline of {@code to:} steps would; a failure or a stop ends the run there, and the
 * step that started it sees it.
 */
final class SequentialCalls {

    private SequentialCalls() {
    }

    /**
     * Runs {@code part} of each version in order (a version without that part is passed), telling {@code reached}
     * of each before its route runs; calls {@code callback.done} once; answers whether all ran synchronously.
     */
    static boolean run(Exchange exchange, List<PipelineVersion> versions, Function<PipelineVersion, AsyncProducer> part,
            Consumer<PipelineVersion> reached, AsyncCallback callback) {
        return runFrom(exchange, versions, part, reached, 0, callback, true);
    }

    private static boolean runFrom(Exchange exchange, List<PipelineVersion> versions,
            Function<PipelineVersion, AsyncProducer> part, Consumer<PipelineVersion> reached, int first,
            AsyncCallback callback, boolean sync) {
        int i = first;
        while (i < versions.size() && proceeds(exchange)) {
            PipelineVersion version = versions.get(i);
            reached.accept(version);
            int next = i + 1;
            AsyncProducer producer = part.apply(version);
            if (producer != null) {
                boolean doneSync = producer.process(exchange, done -> {
                    if (!done) {
                        runFrom(exchange, versions, part, reached, next, callback, false);
                    }
                });
                if (!doneSync) {
                    return false;
                }
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
