package dev.caravan.observe;

import dev.caravan.exchange.DebugTrace;
import org.apache.camel.AsyncCallback;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.NamedNode;
import org.apache.camel.Processor;
import org.apache.camel.model.OptionalIdentifiedDefinition;
import org.apache.camel.model.ProcessorDefinitionHelper;
import org.apache.camel.model.SendDefinition;
import org.apache.camel.model.ToDynamicDefinition;
import org.apache.camel.spi.InterceptStrategy;
import org.apache.camel.support.processor.DelegateAsyncProcessor;

/**
 * Times the steps of a request that asked for a {@link DebugTrace} ({@code x-caravan-debug: true} with the admin
 * key): every step with an id of its own (the ids an operator finds in JMX: auth, validate, acquire-&lt;backend&gt;,
 * next-fallback, ...) and every {@code to} (direct:pre-hooks, direct:lane-x: the hook stages as a whole), in every
 * route, those of routes/pipelines/ and routes added later included. Steps with generated ids are left as they are.
 * <p>
 * Camel applies it when it builds a route. While no request is traced, a step pays one volatile read; while one
 * is, the others pay an exchange-property lookup per step, and the traced one two clock reads and a list entry.
 */
public final class StepTimings implements InterceptStrategy {

    @Override
    public Processor wrapProcessorInInterceptors(CamelContext context, NamedNode definition, Processor target,
                                                 Processor nextTarget) {
        String step = name(context, definition);
        if (step == null) {
            return target;
        }
        String route = ProcessorDefinitionHelper.getRouteId(definition);
        return new Timed(route == null ? "?" : route, step, target);
    }

    /** The step's own id, or the endpoint of a {@code to} without one; null for steps not worth a line. */
    private static String name(CamelContext context, NamedNode definition) {
        if (definition instanceof OptionalIdentifiedDefinition<?> d && d.hasCustomIdAssigned()) {
            return resolved(context, d.getId());
        }
        if (definition instanceof SendDefinition<?> to) {
            return resolved(context, to.getEndpointUri());
        }
        if (definition instanceof ToDynamicDefinition toD) {
            return toD.getUri();
        }
        return null;
    }

    /** A route template's ids hold placeholders ("acquire-{{backend}}"): resolved where they can be. */
    private static String resolved(CamelContext context, String text) {
        if (text == null || !text.contains("{{")) {
            return text;
        }
        try {
            return context.resolvePropertyPlaceholders(text);
        } catch (RuntimeException unresolved) {
            return text;
        }
    }

    private static final class Timed extends DelegateAsyncProcessor {
        private final String route;
        private final String step;

        Timed(String route, String step, Processor target) {
            super(target);
            this.route = route;
            this.step = step;
        }

        @Override
        public boolean process(Exchange exchange, AsyncCallback callback) {
            DebugTrace trace = DebugTrace.anyRunning() ? DebugTrace.of(exchange) : null;
            if (trace == null) {
                return processor.process(exchange, callback);
            }
            DebugTrace.Step timed = trace.begin(route, step);
            return processor.process(exchange, doneSync -> {
                trace.end(timed, exchange.getException());
                callback.done(doneSync);
            });
        }

        @Override
        public String toString() {
            return "StepTimings[" + step + "](" + processor + ")";
        }
    }
}
