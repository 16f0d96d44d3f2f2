package dev.caravan.exchange;

import org.apache.camel.Exchange;

/**
 * The time the gateway itself spent on a request: elapsed time less the time the upstream took
 * (sent → last byte for a reply, sent → first byte for a stream, whose headers go out at its first byte).
 */
public final class GatewayTime {

    /** Exchange property: nanoseconds spent waiting on upstreams, summed over attempts. */
    public static final String UPSTREAM_NANOS = "CaravanUpstreamNanos";

    private GatewayTime() {
    }

    public static void addUpstreamNanos(Exchange exchange, long nanos) {
        Long sum = exchange.getProperty(UPSTREAM_NANOS, Long.class);
        exchange.setProperty(UPSTREAM_NANOS, sum == null ? nanos : sum + nanos);
    }

    public static String overheadMillis(Exchange exchange, long receivedNanos) {
        Long upstream = exchange.getProperty(UPSTREAM_NANOS, Long.class);
        long own = Math.max(0, System.nanoTime() - receivedNanos - (upstream == null ? 0 : upstream));
        long micros = own / 1000;
        // milliseconds with three decimals, without String.format's cost on every reply
        String fraction = Long.toString(1000 + micros % 1000).substring(1);
        return (micros / 1000) + "." + fraction;
    }
}
