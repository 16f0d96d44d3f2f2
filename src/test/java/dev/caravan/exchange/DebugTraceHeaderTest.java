package dev.caravan.exchange;

import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The x-caravan-debug reply header stays a safe, bounded header whatever the request held. */
class DebugTraceHeaderTest {

    @Test
    void aClientsModelNameCannotBreakTheHeadAndTheSummaryIsCapped() {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.setProperty(ExchangeKeys.ASKED_MODEL, "evil\r\nx-injected: yes\u00e9");
        DebugTrace trace = new DebugTrace(System.nanoTime());
        for (int i = 0; i < 400; i++) {
            trace.end(trace.begin("pre-hooks", "step-with-a-rather-long-name-" + i), null);
        }
        String header = trace.summary(exchange);
        assertTrue(header.startsWith("asked=evil??x-injected: yes?;"), header);
        assertEquals(DebugTrace.HEADER_CAP, header.length());
        assertTrue(header.endsWith("..."), header);
        assertTrue(header.chars().allMatch(c -> c >= 0x20 && c < 0x7f), header);
        assertEquals(144, trace.toJson(exchange).path("steps_dropped").asInt()); // 400 - 256 kept
    }
}
