package dev.caravan.pipelines;

import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.config.ApiKeys;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * POST /pipelines/add (admin): the pipeline as a YAML body (Content-Type application/yaml or text/plain), or JSON
 * {@code {"url": "https://..."}} whose YAML is fetched ({@link PipelineFetch}), or JSON {@code {"yaml": "..."}}.
 * Checked, built and live before it is written to the folder as {@code <id>.pipeline.yaml}: 201 with the pipeline,
 * or 400 invalid_pipeline with the reason (nothing changed). Steps can read the gateway's environment, so with API
 * keys configured adding one takes ADMIN_API_KEY itself, not any key.
 */
final class PipelineAdd extends AsyncProcessorSupport {

    private final Vertx vertx;
    private final PipelineFolder folder;
    private final PipelineFetch fetch;
    private final ApiKeys keys;
    private final int maxBytes;

    PipelineAdd(Vertx vertx, PipelineFolder folder, PipelineFetch fetch, ApiKeys keys, int maxBytes) {
        this.vertx = vertx;
        this.folder = folder;
        this.fetch = fetch;
        this.keys = keys;
        this.maxBytes = maxBytes;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        Future<String> yaml;
        try {
            if (keys != null && !keys.authOff() && !keys.hasAdminKey()) {
                throw new OpenAiError(403, "invalid_request_error", "admin_key_required", null,
                        "Adding a pipeline takes the admin key: set ADMIN_API_KEY");
            }
            yaml = yaml(exchange);
        } catch (RuntimeException e) {
            exchange.setException(OffTheLoop.error(e));
            callback.done(true);
            return true;
        }
        return OffTheLoop.complete(yaml.compose(text -> vertx.executeBlocking(
                () -> (Object) PipelineView.of(folder.add(text), "running"), false))
                .onSuccess(added -> exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 201)),
                exchange, callback);
    }

    private Future<String> yaml(Exchange exchange) {
        byte[] body = exchange.getMessage().getBody(byte[].class);
        if (body == null || body.length == 0) {
            throw new PipelineRefused("send the pipeline's YAML as the body, or JSON {\"url\": ...}");
        }
        if (body.length > maxBytes) {
            throw new PipelineRefused("the pipeline is over " + maxBytes + " bytes");
        }
        String text = new String(body, StandardCharsets.UTF_8);
        String type = exchange.getMessage().getHeader("Content-Type", "", String.class);
        if (type.startsWith("application/json") || text.stripLeading().startsWith("{\"url\"")
                || text.stripLeading().startsWith("{\"yaml\"")) {
            JsonNode json;
            try {
                json = Json.MAPPER.readTree(text);
            } catch (java.io.IOException e) {
                throw new PipelineRefused("the body is not valid JSON");
            }
            if (json != null && json.path("url").isTextual()) {
                return fetch.yaml(json.get("url").asText());
            }
            if (json != null && json.path("yaml").isTextual()) {
                return Future.succeededFuture(json.get("yaml").asText());
            }
            // JSON is YAML too: {"pipeline": {...}} is the pipeline itself
        }
        return Future.succeededFuture(text);
    }
}
