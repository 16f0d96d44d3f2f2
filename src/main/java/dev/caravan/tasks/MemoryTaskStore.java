package dev.caravan.tasks;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tasks without Redis: the queue is the worker route's bounded SEDA queue (full → 503 at enqueue, never a
 * silent drop), the states a map bounded in time (finished tasks are forgotten after the TTL) and in size (the
 * oldest finished ones go first). Nothing survives a restart; that is what REDIS_URL is for.
 */
final class MemoryTaskStore implements TaskStore {

    /** States kept at most; queued and running tasks are never evicted (the queue bounds them). */
    static final int MAX_STATES = 100_000;

    private static final Logger LOG = LoggerFactory.getLogger(MemoryTaskStore.class);

    private final WorkerQueue queue;
    private final Vertx vertx;
    private final long ttlMillis;
    private final Map<String, Entry> states = new LinkedHashMap<>();

    MemoryTaskStore(WorkerQueue queue, Vertx vertx, long ttlSeconds) {
        this.queue = queue;
        this.vertx = vertx;
        this.ttlMillis = ttlSeconds * 1000;
    }

    @Override
    public Future<Void> enqueue(Task task) {
        synchronized (this) {
            evictIfFull();
            states.put(task.id(), new Entry(new TaskState(task, TaskState.QUEUED, 0, null, null)));
        }
        try {
            queue.offer(task);
            return Future.succeededFuture();
        } catch (RuntimeException e) {
            synchronized (this) {
                states.remove(task.id());
            }
            return Future.failedFuture(e);
        }
    }

    @Override
    public synchronized Future<TaskState> find(String id) {
        Entry entry = states.get(id);
        if (entry == null || entry.expired(System.currentTimeMillis())) {
            return Future.succeededFuture(null);
        }
        return Future.succeededFuture(entry.state);
    }

    @Override
    public synchronized Future<Claim> start(Object queued) {
        Task task = (Task) queued;
        Entry entry = states.computeIfAbsent(task.id(), id -> new Entry(new TaskState(task, TaskState.QUEUED, 0, null, null)));
        TaskState was = entry.state;
        entry.state = new TaskState(task, TaskState.RUNNING, was.attempts() + 1, null, was.error());
        return Future.succeededFuture(new Claim(task, entry.state.attempts()));
    }

    @Override
    public Future<Void> retry(Task task, JsonNode error, long delayMillis) {
        synchronized (this) {
            Entry entry = states.get(task.id());
            int attempts = entry == null ? 0 : entry.state.attempts();
            states.put(task.id(), new Entry(new TaskState(task, TaskState.QUEUED, attempts, null, error)));
        }
        if (delayMillis <= 0) {
            requeue(task);
        } else {
            vertx.setTimer(delayMillis, id -> requeue(task));
        }
        return Future.succeededFuture();
    }

    /** Back into the queue; a queue that is full now fails the task, which is never dropped in silence. */
    private void requeue(Task task) {
        try {
            queue.offer(task);
        } catch (RuntimeException e) {
            LOG.warn("Task {} could not be queued again and fails: {}", task.id(), e.getMessage());
            finish(task, TaskState.FAILED, null, OpenAiError.overloaded(
                    "The task queue was full when the task was to run again", 5).toJson().get("error"));
        }
    }

    @Override
    public synchronized Future<Void> finish(Task task, String status, JsonNode result, JsonNode error) {
        Entry entry = states.get(task.id());
        int attempts = entry == null ? 0 : entry.state.attempts();
        Entry finished = new Entry(new TaskState(task, status, attempts, result, error));
        finished.expiresAt = System.currentTimeMillis() + ttlMillis;
        states.put(task.id(), finished);
        return Future.succeededFuture();
    }

    @Override
    public synchronized Future<Counts> counts() {
        long queued = 0;
        long running = 0;
        for (Entry entry : states.values()) {
            if (TaskState.QUEUED.equals(entry.state.status())) {
                queued++;
            } else if (TaskState.RUNNING.equals(entry.state.status())) {
                running++;
            }
        }
        return Future.succeededFuture(new Counts(queued, running));
    }

    @Override
    public String kind() {
        return "memory";
    }

    /** Forgets finished tasks whose TTL passed; called now and then by a timer. */
    synchronized void sweep() {
        long now = System.currentTimeMillis();
        states.values().removeIf(entry -> entry.expired(now));
    }

    private void evictIfFull() {
        if (states.size() < MAX_STATES) {
            return;
        }
        sweep();
        for (Iterator<Entry> it = states.values().iterator(); it.hasNext() && states.size() >= MAX_STATES; ) {
            if (it.next().state.finished()) {
                it.remove();
            }
        }
    }

    private static final class Entry {
        TaskState state;
        long expiresAt = Long.MAX_VALUE;

        Entry(TaskState state) {
            this.state = state;
        }

        boolean expired(long now) {
            return now >= expiresAt;
        }
    }
}
