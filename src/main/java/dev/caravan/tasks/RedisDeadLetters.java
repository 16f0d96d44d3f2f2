package dev.caravan.tasks;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;
import dev.caravan.state.LuaScript;
import dev.caravan.state.RedisConnection;
import dev.caravan.state.RedisTimeout;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Response;

/**
 * The DLQ in Redis, shared by every instance: a list (TASK_DLQ_NAME) capped at N entries, newest at the head, and
 * a hash beside it ({@code <name>:replays}) of the replay marks, so an entry's JSON is written once and never
 * rewritten. Each operation is one Lua script: atomic across instances.
 */
final class RedisDeadLetters implements DeadLetterStore {

    private static final LuaScript PUSH = LuaScript.load("tasks-dlq-push");
    private static final LuaScript LIST = LuaScript.load("tasks-dlq-list");
    private static final LuaScript MARK = LuaScript.load("tasks-dlq-mark");
    private static final LuaScript UNMARK = LuaScript.load("tasks-dlq-unmark");
    private static final LuaScript DELETE = LuaScript.load("tasks-dlq-delete");

    private final RedisConnection redis;
    private final Vertx vertx;
    private final String list;
    private final String marks;
    private final int capacity;
    private final long timeoutMillis;

    RedisDeadLetters(RedisConnection redis, Vertx vertx, String list, int capacity, long timeoutMillis) {
        this.redis = redis;
        this.vertx = vertx;
        this.list = list;
        this.marks = list + ":replays";
        this.capacity = Math.max(1, capacity);
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public Future<Void> add(ObjectNode entry) {
        return PUSH.run(redis, vertx, timeoutMillis, List.of(list, marks), List.of(Json.string(entry),
                Integer.toString(capacity))).mapEmpty();
    }

    @Override
    public Future<Integer> size() {
        return RedisTimeout.bound(vertx, redis.api().llen(list), timeoutMillis, "LLEN").map(Response::toInteger);
    }

    @Override
    public Future<List<ObjectNode>> list() {
        return LIST.run(redis, vertx, timeoutMillis, List.of(list, marks), List.of(Integer.toString(capacity)))
                .map(reply -> {
                    Map<String, ObjectNode> marked = new HashMap<>();
                    Response pairs = reply.get(1);
                    for (int i = 0; pairs != null && i + 1 < pairs.size(); i += 2) {
                        ObjectNode mark = parse(pairs.get(i + 1).toString());
                        if (mark != null) {
                            marked.put(pairs.get(i).toString(), mark);
                        }
                    }
                    Response items = reply.get(0);
                    List<ObjectNode> entries = new ArrayList<>(items == null ? 0 : items.size());
                    if (items != null) {
                        for (Response item : items) {
                            ObjectNode entry = parse(item.toString());
                            if (entry != null) {
                                ObjectNode mark = marked.get(entry.path("id").asText());
                                if (mark != null) {
                                    entry.setAll(mark);
                                }
                                entries.add(entry);
                            }
                        }
                    }
                    return entries;
                });
    }

    @Override
    public Future<ReplayMark> markReplayed(String id, String taskId, long at, boolean force) {
        return MARK.run(redis, vertx, timeoutMillis, List.of(list, marks),
                List.of(id, mark(taskId, at), force ? "1" : "0")).map(reply -> {
                    int outcome = reply.get(0).toInteger();
                    if (outcome == 0) {
                        return new ReplayMark(null, false);
                    }
                    ObjectNode entry = parse(reply.get(1).toString());
                    ObjectNode previous = reply.get(2).toString().isEmpty() ? null : parse(reply.get(2).toString());
                    if (entry != null && previous != null) {
                        entry.setAll(previous);
                    }
                    return new ReplayMark(entry, outcome == 2);
                });
    }

    @Override
    public Future<Void> unmarkReplayed(String id, String taskId) {
        return UNMARK.run(redis, vertx, timeoutMillis, List.of(marks), List.of(id, taskId)).mapEmpty();
    }

    @Override
    public Future<Boolean> delete(String id) {
        return DELETE.run(redis, vertx, timeoutMillis, List.of(list, marks), List.of(id))
                .map(reply -> reply.toInteger() == 1);
    }

    private static String mark(String taskId, long at) {
        ObjectNode mark = Json.object();
        mark.put(DeadLetterRecord.REPLAYED_AT, at);
        mark.put(DeadLetterRecord.REPLAY_TASK_ID, taskId);
        return Json.string(mark);
    }

    private static ObjectNode parse(String json) {
        try {
            JsonNode node = Json.MAPPER.readTree(json);
            return node instanceof ObjectNode object ? object : null;
        } catch (IOException e) {
            return null; // not ours: skipped, not fatal
        }
    }
}
