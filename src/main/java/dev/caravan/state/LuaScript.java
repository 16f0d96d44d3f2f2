package dev.caravan.state;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.types.ErrorType;

/**
 * One of the lua/*.lua scripts (task queue, DLQ, token buckets): run with EVALSHA, and with EVAL (which also loads it) when the server does
 * not know it yet. Each run is one atomic step in Redis and is bounded by a timeout, so a Redis that does not
 * answer fails the future instead of leaving a task step waiting.
 */
public final class LuaScript {

    private final String source;
    private final String sha;
    private final String name;

    private LuaScript(String name, String source) {
        this.name = name;
        this.source = source;
        this.sha = sha1(source);
    }

    public static LuaScript load(String name) {
        String resource = "/lua/" + name + ".lua";
        try (InputStream in = LuaScript.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is missing from the classpath");
            }
            return new LuaScript(name, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException(resource + " cannot be read", e);
        }
    }

    public Future<Response> run(RedisConnection redis, Vertx vertx, long timeoutMillis, List<String> keys, List<String> args) {
        List<String> call = new ArrayList<>(2 + keys.size() + args.size());
        call.add(sha);
        call.add(Integer.toString(keys.size()));
        call.addAll(keys);
        call.addAll(args);
        return RedisTimeout.bound(vertx, redis.api().evalsha(call).recover(failure -> {
            if (failure instanceof ErrorType error && error.is("NOSCRIPT")) {
                List<String> withSource = new ArrayList<>(call);
                withSource.set(0, source);
                return redis.api().eval(withSource);
            }
            return Future.failedFuture(failure);
        }), timeoutMillis, name);
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is missing from this JVM", e);
        }
    }
}
