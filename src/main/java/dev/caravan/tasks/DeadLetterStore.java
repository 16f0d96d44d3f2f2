package dev.caravan.tasks;

import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;

/**
 * The dead-letter queue: the last N failed requests and tasks (gateway.dlq-size), newest first, in memory or in
 * Redis (TASK_DLQ_NAME). Entries are the JSON of {@link DeadLetterRecord#entry}; an entry that was replayed also
 * carries {@code replayed_at} (epoch seconds) and {@code replay_task_id}. Each operation is atomic.
 */
public interface DeadLetterStore {

    Future<Void> add(ObjectNode entry);

    /** Newest first, each entry a copy the caller may keep. */
    Future<List<ObjectNode>> list();

    /** Entries held now. */
    Future<Integer> size();

    /** The entry with this id, or null. */
    default Future<ObjectNode> find(String id) {
        return list().map(entries -> entries.stream().filter(e -> id.equals(e.path("id").asText()))
                .findFirst().orElse(null));
    }

    /**
     * Marks the entry replayed into {@code taskId} at {@code at} (epoch seconds), unless it was replayed before and
     * {@code force} is false. Check and mark are one step, so two replays at once cannot both pass.
     */
    Future<ReplayMark> markReplayed(String id, String taskId, long at, boolean force);

    /** Takes back the mark of {@code taskId} (its enqueue failed), if it is still the entry's latest. */
    Future<Void> unmarkReplayed(String id, String taskId);

    /** Removes the entry; true when there was one. */
    Future<Boolean> delete(String id);

    /**
     * What {@link #markReplayed} found: the entry as it was before (null: no such entry), and whether the mark was
     * refused because the entry had been replayed already.
     */
    record ReplayMark(ObjectNode entry, boolean refused) {
    }
}
