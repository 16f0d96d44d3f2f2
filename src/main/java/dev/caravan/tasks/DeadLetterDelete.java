package dev.caravan.tasks;

import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/** DELETE /tasks/dlq/{id}: 200 {@code {"id","object":"dlq_entry.deleted","deleted":true}}, or 404. */
final class DeadLetterDelete extends AsyncProcessorSupport {

    private final DeadLetterStore store;

    DeadLetterDelete(DeadLetterStore store) {
        this.store = store;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        String id = entryId(exchange);
        if (id == null) {
            exchange.setException(notFound(exchange));
            callback.done(true);
            return true;
        }
        return AsyncSteps.completeWhen(store.delete(id).andThen(ar -> {
            if (ar.failed()) {
                exchange.setException(new OpenAiError(503, "server_error", "dlq_unavailable", null,
                        "The dead-letter queue cannot be reached right now; try again later", 2, ar.cause()));
            } else if (!ar.result()) {
                exchange.setException(notFound(exchange));
            } else {
                var body = Json.object();
                body.put("id", id);
                body.put("object", "dlq_entry.deleted");
                body.put("deleted", true);
                exchange.getMessage().setBody(body);
            }
        }), callback);
    }

    /**
     * The {id} of the path when it can be a DLQ id ("dlq_" and hex, as {@link Task#newId} makes them), else null:
     * the stores match ids inside their JSON, so nothing else may reach them.
     */
    static String entryId(Exchange exchange) {
        return entryId(exchange.getMessage().getHeader("id", String.class));
    }

    /** {@code id} when it can be a DLQ id, else null. */
    static String entryId(String id) {
        if (id == null || !id.startsWith("dlq_") || id.length() > 64) {
            return null;
        }
        for (int i = 4; i < id.length(); i++) {
            char c = id.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-')) {
                return null;
            }
        }
        return id;
    }

    static OpenAiError notFound(Exchange exchange) {
        return new OpenAiError(404, "invalid_request_error", "dlq_entry_not_found", "id",
                "No dead letter with id " + OpenAiError.echo(exchange.getMessage().getHeader("id", String.class)));
    }
}
