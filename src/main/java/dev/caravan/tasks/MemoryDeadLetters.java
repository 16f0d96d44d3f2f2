package dev.caravan.tasks;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;

/** The DLQ without Redis: a ring of the last N entries. */
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
    public synchronized Future<List<ObjectNode>> list() {
        return Future.succeededFuture(new ArrayList<>(entries));
    }
}
