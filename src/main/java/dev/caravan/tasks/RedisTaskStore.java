package dev.caravan.tasks;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import dev.caravan.state.LuaScript;
import dev.caravan.state.RedisConnection;
import dev.caravan.state.RedisTimeout;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Response;

/**
 * Tasks in Redis, shared by every instance, surviving any one of them:
 * <ul>
 *   <li>{@code <queue>} (TASK_QUEUE_NAME): list of queued task ids, pushed on the left, claimed from the right;</li>
 *   <li>{@code <queue>:processing}: sorted set of claimed ids scored by lease deadline (Redis time, ms); the
 *       instance running a task renews its lease, and any instance's reaper puts a task whose lease ran out back
 *       in the queue, so a task held by an instance killed with kill -9 runs again elsewhere;</li>
 *   <li>{@code <queue>:delayed}: sorted set of tasks waiting out the pause before their next attempt, scored by
 *       when it ends; claims and reapers move them back to the queue;</li>
 *   <li>{@code <queue>:task:<id>}: hash of the task (spec JSON, status, attempts, result, error), expiring a TTL
 *       after the task finished.</li>
 * </ul>
 * Each change is one Lua script (lua/tasks-*.lua), so it is atomic. Tasks run at least once: a task whose
 * worker died mid-way runs again from the start.
 */
final class RedisTaskStore implements TaskStore {

    private static final LuaScript ENQUEUE = LuaScript.load("tasks-enqueue");
    private static final LuaScript CLAIM = LuaScript.load("tasks-claim");
    private static final LuaScript RENEW = LuaScript.load("tasks-renew");
    private static final LuaScript REAP = LuaScript.load("tasks-reap");
    private static final LuaScript RETRY = LuaScript.load("tasks-retry");
    private static final LuaScript FINISH = LuaScript.load("tasks-finish");
    private static final int REAP_BATCH = 100;

    private final RedisConnection redis;
    private final Vertx vertx;
    private final String queue;
    private final String processing;
    private final String delayed;
    private final String taskPrefix;
    private final long leaseMillis;
    private final long ttlSeconds;
    private final int queueLimit;
    private final long timeoutMillis;

    RedisTaskStore(RedisConnection redis, Vertx vertx, String queue, long leaseMillis, long ttlSeconds, int queueLimit,
                   long timeoutMillis) {
        this.redis = redis;
        this.vertx = vertx;
        this.queue = queue;
        this.processing = queue + ":processing";
        this.delayed = queue + ":delayed";
        this.taskPrefix = queue + ":task:";
        this.leaseMillis = leaseMillis;
        this.ttlSeconds = ttlSeconds;
        this.queueLimit = queueLimit;
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public Future<Void> enqueue(Task task) {
        return ENQUEUE.run(redis, vertx, timeoutMillis, List.of(queue),
                        List.of(taskPrefix + task.id(), task.id(), task.toJson(), Integer.toString(queueLimit)))
                .recover(failure -> Future.failedFuture(unavailable(failure)))
                .compose(accepted -> accepted.toInteger() == 1 ? Future.succeededFuture()
                        : Future.failedFuture(OpenAiError.overloaded("The task queue is full; try again later", 5)));
    }

    @Override
    public Future<TaskState> find(String id) {
        return RedisTimeout.bound(vertx, redis.api().hmget(List.of(taskPrefix + id, "task", "status", "attempts",
                        "result", "error")), timeoutMillis, "HMGET").map(fields -> {
                    if (fields == null || fields.get(0) == null) {
                        return null;
                    }
                    return new TaskState(Task.fromJson(fields.get(0).toString()), fields.get(1).toString(),
                            fields.get(2) == null ? 0 : fields.get(2).toInteger(), json(fields.get(3)),
                            json(fields.get(4)));
                });
    }

    @Override
    public Future<Claim> start(Object queued) {
        return Future.succeededFuture((Claim) queued); // claimed and counted in Redis already
    }

    /** Claims the oldest queued task for this instance, or completes with null when the queue is empty. */
    Future<Claim> claim() {
        return CLAIM.run(redis, vertx, timeoutMillis, List.of(queue, processing, delayed),
                List.of(Long.toString(leaseMillis), taskPrefix)).map(reply -> {
                    if (reply == null || reply.size() < 3) {
                        return null;
                    }
                    return new Claim(Task.fromJson(reply.get(2).toString()), reply.get(1).toInteger());
                });
    }

    Future<Integer> renew(Collection<String> ids) {
        if (ids.isEmpty()) {
            return Future.succeededFuture(0);
        }
        List<String> args = new ArrayList<>(ids.size() + 1);
        args.add(Long.toString(leaseMillis));
        args.addAll(ids);
        return RENEW.run(redis, vertx, timeoutMillis, List.of(processing), args).map(Response::toInteger);
    }

    /** Puts tasks whose lease ran out back in the queue; completes with how many. */
    Future<Integer> reap() {
        return REAP.run(redis, vertx, timeoutMillis, List.of(queue, processing, delayed),
                List.of(Integer.toString(REAP_BATCH), taskPrefix)).map(Response::toInteger);
    }

    @Override
    public Future<Void> retry(Task task, JsonNode error, long delayMillis) {
        return RETRY.run(redis, vertx, timeoutMillis, List.of(queue, processing, delayed),
                List.of(taskPrefix + task.id(), task.id(), error == null ? "" : Json.string(error),
                        Long.toString(Math.max(0, delayMillis)))).mapEmpty();
    }

    @Override
    public Future<Void> finish(Task task, String status, JsonNode result, JsonNode error) {
        return FINISH.run(redis, vertx, timeoutMillis, List.of(queue, processing, delayed),
                List.of(taskPrefix + task.id(), task.id(), status, result == null ? "" : Json.string(result),
                        error == null ? "" : Json.string(error), Long.toString(ttlSeconds))).mapEmpty();
    }

    @Override
    public Future<Counts> counts() {
        // three reads, not one atomic snapshot: a task moving between them may count twice or not at all
        Future<Response> waiting = RedisTimeout.bound(vertx, redis.api().llen(queue), timeoutMillis, "LLEN");
        Future<Response> later = RedisTimeout.bound(vertx, redis.api().zcard(delayed), timeoutMillis, "ZCARD");
        Future<Response> claimed = RedisTimeout.bound(vertx, redis.api().zcard(processing), timeoutMillis, "ZCARD");
        return Future.all(waiting, later, claimed).map(all -> new Counts(
                waiting.result().toLong() + later.result().toLong(), claimed.result().toLong()));
    }

    @Override
    public String kind() {
        return "redis";
    }

    private static JsonNode json(Response field) {
        if (field == null) {
            return null;
        }
        String text = field.toString();
        if (text.isEmpty()) {
            return null;
        }
        try {
            return Json.MAPPER.readTree(text);
        } catch (IOException e) {
            return null;
        }
    }

    private static OpenAiError unavailable(Throwable failure) {
        if (failure instanceof OpenAiError error) {
            return error;
        }
        return new OpenAiError(503, "server_error", "task_store_unavailable", null,
                "The task queue cannot be reached right now; try again later", 2, failure);
    }
}
