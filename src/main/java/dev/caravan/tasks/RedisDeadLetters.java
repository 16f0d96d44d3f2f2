package dev.caravan.tasks;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;
import dev.caravan.state.RedisConnection;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Response;

/** The DLQ in Redis, shared by every instance: a list (TASK_DLQ_NAME) capped at N entries, newest at the head. */
final class RedisDeadLetters implements DeadLetterStore {

    private static final LuaScript PUSH = LuaScript.load("tasks-dlq-push");

    private final RedisConnection redis;
    private final Vertx vertx;
    private final String list;
    private final int capacity;
    private final long timeoutMillis;

    RedisDeadLetters(RedisConnection redis, Vertx vertx, String list, int capacity, long timeoutMillis) {
        this.redis = redis;
        this.vertx = vertx;
        this.list = list;
        this.capacity = Math.max(1, capacity);
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public Future<Void> add(ObjectNode entry) {
        return PUSH.run(redis, vertx, timeoutMillis, List.of(list), List.of(Json.string(entry),
                Integer.toString(capacity))).mapEmpty();
    }

    @Override
    public Future<List<ObjectNode>> list() {
        return LuaScript.bounded(vertx, redis.api().lrange(list, "0", Integer.toString(capacity - 1)), timeoutMillis,
                "LRANGE").map(reply -> {
                    List<ObjectNode> entries = new ArrayList<>(reply == null ? 0 : reply.size());
                    if (reply != null) {
                        for (Response item : reply) {
                            ObjectNode entry = parse(item.toString());
                            if (entry != null) {
                                entries.add(entry);
                            }
                        }
                    }
                    return entries;
                });
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
