package dev.caravan.tasks;

import java.util.List;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.exchange.QueryParameters;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * GET /tasks/dlq: {@code {"object":"list","data":[{"id","created","key_name","model","backend","error","attempts",
 * "request","replayed_at","replay_task_id"}],"first_id","last_id","has_more"}}, newest first, in pages as OpenAI
 * lists are: {@code ?limit=} (default 100, at most 1000) entries after the entry {@code ?after=<id>}.
 */
final class DeadLetterList extends AsyncProcessorSupport {

    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;

    private static final List<String> FIELDS = List.of("id", "created", "key_name", "model", "backend", "error",
            "attempts", "request", DeadLetterRecord.REPLAYED_AT, DeadLetterRecord.REPLAY_TASK_ID);

    private final DeadLetterStore store;

    DeadLetterList(DeadLetterStore store) {
        this.store = store;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        int limit;
        String after = QueryParameters.first(exchange, "after");
        try {
            limit = limit(QueryParameters.first(exchange, "limit"));
        } catch (OpenAiError e) {
            exchange.setException(e);
            callback.done(true);
            return true;
        }
        return AsyncSteps.completeWhen(store.list().andThen(ar -> {
            if (ar.failed()) {
                exchange.setException(new OpenAiError(503, "server_error", "dlq_unavailable", null,
                        "The dead-letter queue cannot be reached right now; try again later", 2, ar.cause()));
                return;
            }
            List<ObjectNode> entries = ar.result();
            int from = 0;
            if (after != null && !after.isEmpty()) {
                from = indexOf(entries, after) + 1;
                if (from == 0) {
                    exchange.setException(OpenAiError.invalidRequest("after", "No dead letter with id "
                            + OpenAiError.echo(after) + " (it may have been deleted or dropped as the oldest)"));
                    return;
                }
            }
            int to = Math.min(entries.size(), from + limit);
            ObjectNode body = Json.object();
            body.put("object", "list");
            ArrayNode data = body.putArray("data");
            entries.subList(from, to).forEach(entry -> data.add(listed(entry)));
            body.put("first_id", data.isEmpty() ? null : data.get(0).path("id").asText());
            body.put("last_id", data.isEmpty() ? null : data.get(data.size() - 1).path("id").asText());
            body.put("has_more", to < entries.size());
            exchange.getMessage().setBody(body);
        }), callback);
    }

    private static int limit(String value) {
        if (value == null) {
            return DEFAULT_LIMIT;
        }
        try {
            int limit = Integer.parseInt(value.trim());
            if (limit >= 1 && limit <= MAX_LIMIT) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw OpenAiError.invalidRequest("limit", "'limit' must be a whole number from 1 to " + MAX_LIMIT);
    }

    private static int indexOf(List<ObjectNode> entries, String id) {
        for (int i = 0; i < entries.size(); i++) {
            if (id.equals(entries.get(i).path("id").asText())) {
                return i;
            }
        }
        return -1;
    }

    /** The entry as listed: without what only a replay needs (the owner's key id, the operation). */
    static ObjectNode listed(ObjectNode entry) {
        ObjectNode listed = Json.object();
        FIELDS.forEach(field -> listed.set(field, entry.get(field)));
        return listed;
    }
}
