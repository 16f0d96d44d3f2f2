package dev.caravan.tasks;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.Future;

/**
 * The task queue and the task states: in memory (a SEDA queue and a bounded map), or in Redis (a reliable queue
 * with leases, shared by every instance). Every operation is non-blocking.
 */
public interface TaskStore {

    /** Accepts a task as queued; fails with a 503 {@link dev.caravan.openai.OpenAiError} when the queue is full. */
    Future<Void> enqueue(Task task);

    /** The task's state, or null when there is no such task (or its state expired). */
    Future<TaskState> find(String id);

    /**
     * Marks what the worker route took from the queue as running and counts the attempt. The body is the task
     * (in memory) or the claim made in Redis (already counted there).
     */
    Future<Claim> start(Object queued);

    /**
     * Queues the task again after a failed attempt, once {@code delayMillis} passed; meanwhile it is queued (not
     * holding a worker slot) and keeps the attempt's error.
     */
    Future<Void> retry(Task task, JsonNode error, long delayMillis);

    /** Records the end: done with the result, or failed with the error. */
    Future<Void> finish(Task task, String status, JsonNode result, JsonNode error);

    /** Tasks queued now (waiting to run, or for their next attempt) and running now; in Redis, of every instance. */
    Future<Counts> counts();

    /** "memory" or "redis", for logs. */
    String kind();

    /** How many tasks are queued and running. */
    record Counts(long queued, long running) {
    }

    /** A task taken from the queue, and which attempt this is (1 for the first). */
    record Claim(Task task, int attempt) {
    }
}
