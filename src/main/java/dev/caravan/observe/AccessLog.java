package dev.caravan.observe;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.KeyConfig;
import dev.caravan.config.ModelRoute;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.exchange.GatewayTime;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Usage;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Post-hook step "access-log": one line per model request, once (the post-hooks run once, on success and failure),
 * on logger {@code dev.caravan.access}: request id, key name (never the key), model asked, model and backend that
 * served, fallbacks taken, status, error code, reply format, tokens, cost, queue wait, time to first token, upstream
 * time and the gateway's own time. Key=value text by default; one JSON object per line with LOG_FORMAT=json.
 * ACCESS_LOG_LEVEL=WARN turns it off.
 */
public final class AccessLog implements Processor {

    static final Logger LOG = LoggerFactory.getLogger("dev.caravan.access");

    /** The gateway's one log format, set when the bean is made: the edge's refusals log in it too. */
    private static volatile boolean json;

    public AccessLog(String format) {
        json = "json".equalsIgnoreCase(format);
    }

    /**
     * The line of a request refused at the edge before any route ran (415, 401 before the body, 503 body budget):
     * request id, path, status and error code.
     */
    public static void refused(String requestId, String path, int status, String code) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        if (json) {
            ObjectNode o = Json.object();
            o.put("time", Instant.now().toString());
            o.put("logger", "dev.caravan.access");
            o.put("request_id", requestId);
            o.put("path", path);
            o.put("status", status);
            o.put("error", code);
            o.put("refused_at", "edge");
            LOG.info(Json.string(o));
        } else {
            LOG.info("{} path={} status={} error={} refused_at=edge", requestId, path, status, code);
        }
    }

    @Override
    public void process(Exchange exchange) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        Line line = new Line(exchange);
        LOG.info(json ? line.json() : line.text());
    }

    /** What the line says, read off the exchange once. */
    private static final class Line {
        final String requestId;
        final String key;
        final String asked;
        final String model;
        final String upstreamModel;
        final String backend;
        final List<?> fallbacks;
        final int status;
        final String error;
        final String format;
        final Usage usage;
        final Double cost;
        final double queueMs;
        final double firstByteMs;
        final double upstreamMs;
        final String overheadMs;
        final double totalMs;
        final Object intent;

        Line(Exchange exchange) {
            long now = System.nanoTime();
            requestId = exchange.getProperty(ExchangeKeys.REQUEST_ID, String.class);
            KeyConfig k = exchange.getProperty(ExchangeKeys.KEY, KeyConfig.class);
            key = k == null ? null : k.name();
            asked = exchange.getProperty(ExchangeKeys.ASKED_MODEL, String.class);
            ModelRoute route = exchange.getProperty(ExchangeKeys.MODEL_ROUTE, ModelRoute.class);
            model = route == null ? null : route.model();
            upstreamModel = route == null ? null : route.upstreamModel();
            backend = route == null ? null : route.backendName();
            fallbacks = exchange.getProperty(ExchangeKeys.FALLBACKS, List.class);
            OpenAiError failure = exchange.getProperty(ExchangeKeys.ERROR, OpenAiError.class);
            Integer code = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
            status = failure != null ? failure.status() : code == null ? 200 : code;
            error = failure == null ? null : failure.code();
            Object f = exchange.getProperty(ExchangeKeys.REPLY_FORMAT);
            format = f == null ? null : f.toString().toLowerCase(java.util.Locale.ROOT);
            usage = exchange.getProperty(ExchangeKeys.USAGE, Usage.class);
            cost = exchange.getProperty(ExchangeKeys.COST, Double.class);
            queueMs = millis(exchange.getProperty(ExchangeKeys.LANE_WAITED_NANOS, Long.class));
            Long received = exchange.getProperty(ExchangeKeys.RECEIVED_NANOS, Long.class);
            Long firstByte = exchange.getProperty(ExchangeKeys.UPSTREAM_FIRST_BYTE_NANOS, Long.class);
            firstByteMs = received == null || firstByte == null ? -1 : millis(firstByte - received);
            upstreamMs = millis(exchange.getProperty(GatewayTime.UPSTREAM_NANOS, Long.class));
            overheadMs = received == null ? null : GatewayTime.overheadMillis(exchange, received);
            totalMs = received == null ? -1 : millis(now - received);
            intent = exchange.getProperty(ExchangeKeys.INTENT);
        }

        String text() {
            StringBuilder s = new StringBuilder(256).append(requestId);
            field(s, "key", key);
            field(s, "asked", asked);
            field(s, "model", model);
            field(s, "backend", backend);
            if (fallbacks != null && !fallbacks.isEmpty()) {
                field(s, "fallbacks", String.join(",", fallbacks.stream().map(String::valueOf).toList()));
            }
            s.append(" status=").append(status);
            field(s, "error", error);
            field(s, "format", format);
            if (usage != null) {
                s.append(" tokens_in=").append(usage.promptTokens()).append(" tokens_out=").append(usage.completionTokens());
            }
            if (cost != null) {
                s.append(" cost=").append(cost);
            }
            number(s, "queue_ms", queueMs);
            number(s, "first_token_ms", firstByteMs);
            number(s, "upstream_ms", upstreamMs);
            field(s, "overhead_ms", overheadMs);
            number(s, "ms", totalMs);
            field(s, "intent", intent == null ? null : intent.toString());
            return s.toString();
        }

        String json() {
            ObjectNode o = Json.object();
            o.put("time", Instant.now().toString());
            o.put("logger", "dev.caravan.access");
            o.put("request_id", requestId);
            o.put("key", key);
            o.put("model_asked", asked);
            o.put("model", model);
            o.put("upstream_model", upstreamModel);
            o.put("backend", backend);
            if (fallbacks != null && !fallbacks.isEmpty()) {
                fallbacks.forEach(m -> o.withArray("fallbacks").add(String.valueOf(m)));
            }
            o.put("status", status);
            o.put("error", error);
            o.put("format", format);
            if (usage != null) {
                o.put("tokens_in", usage.promptTokens());
                o.put("tokens_out", usage.completionTokens());
            }
            if (cost != null) {
                o.put("cost", cost);
            }
            put(o, "queue_ms", queueMs);
            put(o, "first_token_ms", firstByteMs);
            put(o, "upstream_ms", upstreamMs);
            if (overheadMs != null) {
                o.put("overhead_ms", Double.parseDouble(overheadMs));
            }
            put(o, "ms", totalMs);
            if (intent != null) {
                o.put("intent", intent.toString());
            }
            return Json.string(o);
        }

        private static void field(StringBuilder s, String name, String value) {
            if (value != null) {
                s.append(' ').append(name).append('=');
                boolean quote = value.isEmpty() || value.indexOf(' ') >= 0 || value.indexOf('"') >= 0;
                if (quote) {
                    s.append('"').append(value.replace("\"", "\\\"")).append('"');
                } else {
                    s.append(value);
                }
            }
        }

        private static void number(StringBuilder s, String name, double value) {
            if (value >= 0) {
                s.append(' ').append(name).append('=').append(value);
            }
        }

        private static void put(ObjectNode o, String name, double value) {
            if (value >= 0) {
                o.put(name, value);
            }
        }

        /** Milliseconds with three decimals; -1 for "not measured". */
        private static double millis(Long nanos) {
            return nanos == null ? -1 : Math.round(nanos / 1000.0) / 1000.0;
        }
    }
}
