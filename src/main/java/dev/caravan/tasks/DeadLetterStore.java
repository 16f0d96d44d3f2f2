package dev.caravan.tasks;

import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;

/**
 * The dead-letter queue: the last N failed requests and tasks (gateway.dlq-size), newest first, in memory or in
 * Redis (TASK_DLQ_NAME). Entries are the JSON of {@link DeadLetterRecord#entry}.
 */
public interface DeadLetterStore {

    Future<Void> add(ObjectNode entry);

    /** Newest first. */
    Future<List<ObjectNode>> list();

    /** The entry with this id, or null. */
    default Future<ObjectNode> find(String id) {
        return list().map(entries -> entries.stream().filter(e -> id.equals(e.path("id").asText()))
                .findFirst().orElse(null));
    }
}
