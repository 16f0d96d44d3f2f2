package dev.caravan.api;

import dev.caravan.exchange.ReplyHeaders;
import dev.caravan.openai.Json;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * GET /health/ready, the readiness probe: 200 {"status":"ready"} while the gateway serves, 503 with retry-after
 * while it shuts down. While it starts, {@link StartupGate} answers before any route runs.
 */
public final class ReadinessReport implements Processor {

    private final StartupGate gate;

    public ReadinessReport(StartupGate gate) {
        this.gate = gate;
    }

    @Override
    public void process(Exchange exchange) {
        boolean ready = gate.ready();
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, ready ? 200 : 503);
        if (!ready) {
            ReplyHeaders.set(exchange, "retry-after", "1");
        }
        exchange.getMessage().setBody(Json.object().put("status", ready ? "ready" : (gate.starting() ? "starting" : "stopping")));
    }
}
