package dev.caravan.resilience;

import dev.caravan.config.ModelRoute;
import dev.caravan.exchange.Cancellation;
import dev.caravan.exchange.ExchangeKeys;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Router step "circuit-check", right before the lane: a request whose deadline passed (or whose client left)
 * goes no further, and one for a backend whose circuit is open fails fast with 503 circuit_open instead of waiting
 * in that backend's lane (the next model of the chain may serve). The circuit is the route's: its backend and upstream
 * model (or its backend, with gateway.circuit.scope=backend).
 */
public final class CircuitCheck implements Processor {

    private final CircuitBreakers circuits;

    public CircuitCheck(CircuitBreakers circuits) {
        this.circuits = circuits;
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        Cancellation cancellation = exchange.getProperty(ExchangeKeys.CANCELLATION, Cancellation.class);
        Throwable cancelled = cancellation == null ? null : cancellation.reason();
        if (cancelled instanceof Exception e) {
            throw e;
        }
        ModelRoute route = exchange.getProperty(ExchangeKeys.MODEL_ROUTE, ModelRoute.class);
        if (route != null && circuits.isOpen(route)) {
            throw circuits.openError(route);
        }
    }
}
