package dev.caravan.stream;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.exchange.ErrorMapping;
import dev.caravan.openai.OpenAiError;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;
import org.apache.camel.Producer;
import org.apache.camel.model.LogDefinition;
import org.apache.camel.model.Model;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.SimpleEventNotifierSupport;
import org.apache.camel.support.DefaultExchange;
import org.apache.camel.support.service.ServiceHelper;

/**
 * The stream hook point: every chunk a streamed answer sends the client passes through the {@code stream-hooks}
 * route (routes/65-stream-hooks.camel.yaml) as the body of a chunk exchange that carries the request's exchange
 * properties, so a step may rewrite the chunk or drop it (a null body).
 * <p>
 * While the route holds nothing but TRACE log steps (as shipped), chunks skip it altogether: no exchange is made
 * per chunk, so the empty hook costs one registry lookup per stream. Steps run on the event loop for each chunk and
 * must not wait (no call-out here): the route is called synchronously.
 */
public final class StreamHooks {

    /** The bean's name in the registry. */
    public static final String BEAN = "streamHooks";
    /** Chunk exchange property: a Map&lt;String, Object&gt; of the stream's own, for hooks that keep state. */
    public static final String STATE = "CaravanStreamState";
    static final String ROUTE = "stream-hooks";

    private final CamelContext camel;
    /** Set by any route event (added, removed, started, reloaded): the route is looked at again on the next stream. */
    private volatile boolean stale = true;
    private volatile boolean active;
    private volatile Producer producer;

    public StreamHooks(CamelContext camel) {
        this.camel = camel;
        // per stream, a flag instead of CamelContext.getRoute, which copies the list of routes and walks it
        SimpleEventNotifierSupport routeChanges = new SimpleEventNotifierSupport() {
            @Override
            public void notify(CamelEvent event) {
                stale = true;
            }

            @Override
            public boolean isEnabled(CamelEvent event) {
                return event instanceof CamelEvent.RouteEvent;
            }
        };
        routeChanges.setIgnoreExchangeEvents(true); // no event objects per exchange for this notifier
        routeChanges.setIgnoreCamelContextEvents(true);
        routeChanges.setIgnoreServiceEvents(true);
        routeChanges.setIgnoreStepEvents(true);
        camel.getManagementStrategy().addEventNotifier(routeChanges);
    }

    /** The hooks for one stream of {@code exchange}, or null when the route is empty (nothing to do per chunk). */
    public static Stream of(Exchange exchange) {
        StreamHooks hooks = exchange.getContext().getRegistry().lookupByNameAndType(BEAN, StreamHooks.class);
        return hooks == null || !hooks.active() ? null : hooks.new Stream(exchange);
    }

    /** Whether the route has a step worth a chunk exchange; worked out again only after a route changed. */
    boolean active() {
        if (stale) {
            stale = false; // before the look: an event during it marks it stale again
            Model model = camel.getCamelContextExtension().getContextPlugin(Model.class);
            RouteDefinition route = model == null ? null : model.getRouteDefinition(ROUTE);
            active = camel.getRoute(ROUTE) != null && (route == null || hasSteps(route));
        }
        return active;
    }

    private static boolean hasSteps(RouteDefinition route) {
        List<ProcessorDefinition<?>> outputs = route.getOutputs();
        for (ProcessorDefinition<?> step : outputs) {
            if (!(step instanceof LogDefinition log) || !LoggingLevel.TRACE.name().equals(log.getLoggingLevel())) {
                return true;
            }
        }
        return false;
    }

    /** A direct producer finds the route's current consumer on each call, so one serves across route reloads. */
    private Producer producer() throws Exception {
        Producer current = producer;
        if (current == null) {
            synchronized (this) {
                if (producer == null) {
                    Producer created = camel.getEndpoint("direct:" + ROUTE).createProducer();
                    ServiceHelper.startService(created);
                    producer = created;
                }
                current = producer;
            }
        }
        return current;
    }

    /** One stream's passage through the hooks: its state map lives as long as the stream. */
    public final class Stream {
        private final Exchange request;
        private final Map<String, Object> state = new HashMap<>();

        Stream(Exchange request) {
            this.request = request;
        }

        /** The chunk as the hooks left it, or null when a hook dropped it. A failing hook fails the stream. */
        public ObjectNode pass(ObjectNode chunk) {
            Exchange exchange = new DefaultExchange(camel);
            exchange.getProperties().putAll(request.getProperties());
            exchange.setProperty(STATE, state);
            exchange.getMessage().setBody(chunk);
            try {
                producer().process(exchange);
            } catch (Exception e) {
                exchange.setException(e);
            }
            if (exchange.getException() != null) {
                throw ErrorMapping.toOpenAiError(exchange.getException(), request);
            }
            Object body = exchange.getMessage().getBody();
            if (body == null) {
                return null;
            }
            if (body instanceof ObjectNode object) {
                return object;
            }
            ObjectNode parsed = exchange.getMessage().getBody(ObjectNode.class); // a step that left JSON text
            if (parsed == null) {
                throw OpenAiError.internal("A stream-hooks step left a chunk that is not a JSON object");
            }
            return parsed;
        }
    }
}
