package dev.caravan.observe;

import dev.caravan.exchange.ReplyHeaders;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/** GET /metrics: the Prometheus text exposition of every meter (gateway, Camel routes, JVM). */
public final class MetricsScrape implements Processor {

    private final PrometheusMeterRegistry registry;

    public MetricsScrape(PrometheusMeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void process(Exchange exchange) {
        ReplyHeaders.set(exchange, "content-type", "text/plain; version=0.0.4; charset=utf-8");
        exchange.getMessage().setBody(registry.scrape());
    }
}
