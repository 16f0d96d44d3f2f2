package dev.caravan.tasks;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;

/** The DLQ without Redis: a ring of the last N entries; every operation holds the one lock. */
final class MemoryDeadLetters implements DeadLetterStore {

    private final int capacity;
    private final ArrayDeque<ObjectNode> entries;

    MemoryDeadLetters(int capacity) {
        this.capacity = Math.max(1, capacity);
        this.entries = new ArrayDeque<>(Math.min(this.capacity, 1024));
    }

    @Override
    public synchronized Future<Void> add(ObjectNode entry) {
        if (entries.size() == capacity) {
            entries.removeLast();
        }
        entries.addFirst(entry);
        return Future.succeededFuture();
    }

    @Override
    public synchronized Future<Integer> size() {
        return Future.succeededFuture(entries.size());
    }

    @Override
    public synchronized Future<List<ObjectNode>> list() {
        List<ObjectNode> copies = new ArrayList<>(entries.size());
        entries.forEach(entry -> copies.add(entry.deepCopy())); // marks change entries in place, under the lock
        return Future.succeededFuture(copies);
    }

    @Override
    public synchronized Future<ReplayMark> markReplayed(String id, String taskId, long at, boolean force) {
        ObjectNode entry = entry(id);
        if (entry == null) {
            return Future.succeededFuture(new ReplayMark(null, false));
        }
        ObjectNode before = entry.deepCopy();
        if (entry.hasNonNull(DeadLetterRecord.REPLAY_TASK_ID) && !force) {
            return Future.succeededFuture(new ReplayMark(before, true));
        }
        entry.put(DeadLetterRecord.REPLAYED_AT, at);
        entry.put(DeadLetterRecord.REPLAY_TASK_ID, taskId);
        return Future.succeededFuture(new ReplayMark(before, false));
    }

    @Override
    public synchronized Future<Void> unmarkReplayed(String id, String taskId) {
        ObjectNode entry = entry(id);
        if (entry != null && taskId.equals(entry.path(DeadLetterRecord.REPLAY_TASK_ID).asText(null))) {
            entry.remove(DeadLetterRecord.REPLAYED_AT);
            entry.remove(DeadLetterRecord.REPLAY_TASK_ID);
        }
        return Future.succeededFuture();
    }

    @Override
    public synchronized Future<Boolean> delete(String id) {
        return Future.succeededFuture(entries.removeIf(entry -> id.equals(entry.path("id").asText())));
    }

    private ObjectNode entry(String id) {
        for (ObjectNode entry : entries) {
            if (id.equals(entry.path("id").asText())) {
                return entry;
            }
        }
        return null;
    }
}
