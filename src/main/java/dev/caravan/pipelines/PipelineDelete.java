package dev.caravan.pipelines;

import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.exchange.QueryParameters;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.Vertx;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * DELETE /pipelines/delete?id=polite (or a JSON body {@code {"id": "polite"}}), admin: the pipeline leaves service at
 * once and its file is deleted; requests already on it finish on it. 200
 * {@code {"id","object":"pipeline.deleted","deleted":true}}, or 404 pipeline_not_found.
 */
final class PipelineDelete extends AsyncProcessorSupport {

    private final Vertx vertx;
    private final PipelineFolder folder;

    PipelineDelete(Vertx vertx, PipelineFolder folder) {
        this.vertx = vertx;
        this.folder = folder;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        String id = id(exchange);
        if (id == null || id.isEmpty()) {
            exchange.setException(OpenAiError.invalidRequest("id", "Name the pipeline: ?id=<id> or {\"id\": \"<id>\"}"));
            callback.done(true);
            return true;
        }
        return OffTheLoop.run(vertx, exchange, callback, () -> {
            if (folder.delete(id) == null) {
                throw new OpenAiError(404, "invalid_request_error", "pipeline_not_found", "id",
                        "No pipeline " + OpenAiError.echo(id) + " is running");
            }
            ObjectNode body = Json.object();
            body.put("id", id);
            body.put("object", "pipeline.deleted");
            body.put("deleted", true);
            return body;
        });
    }

    private static String id(Exchange exchange) {
        String id = QueryParameters.first(exchange, "id");
        if (id != null) {
            return id;
        }
        byte[] body = exchange.getMessage().getBody(byte[].class);
        if (body == null || body.length == 0) {
            return null;
        }
        try {
            JsonNode json = Json.MAPPER.readTree(new String(body, StandardCharsets.UTF_8));
            return json != null && json.path("id").isTextual() ? json.get("id").asText() : null;
        } catch (java.io.IOException e) {
            throw OpenAiError.invalidRequest(null, "The body is not valid JSON");
        }
    }
}
