package dev.caravan.tasks;

import java.util.List;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * GET /tasks/dlq: {@code {"object":"list","data":[{"id","created","key_name","model","backend","error",
 * "attempts","request"}]}}, newest first.
 */
final class DeadLetterList extends AsyncProcessorSupport {

    private static final List<String> FIELDS = List.of("id", "created", "key_name", "model", "backend", "error",
            "attempts", "request");

    private final DeadLetterStore store;

    DeadLetterList(DeadLetterStore store) {
        this.store = store;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        return AsyncSteps.completeWhen(store.list().andThen(ar -> {
            if (ar.failed()) {
                exchange.setException(new OpenAiError(503, "server_error", "dlq_unavailable", null,
                        "The dead-letter queue cannot be reached right now; try again later", 2, ar.cause()));
                return;
            }
            ObjectNode body = Json.object();
            body.put("object", "list");
            ArrayNode data = body.putArray("data");
            ar.result().forEach(entry -> data.add(listed(entry)));
            exchange.getMessage().setBody(body);
        }), callback);
    }

    /** The entry as listed: without what only a replay needs (the owner's key id, the operation). */
    static ObjectNode listed(ObjectNode entry) {
        ObjectNode listed = Json.object();
        FIELDS.forEach(field -> listed.set(field, entry.get(field)));
        return listed;
    }
}
