package dev.caravan.limits;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeoutException;

import dev.caravan.state.RedisConnection;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.types.ErrorType;

/**
 * The buckets in Redis, shared by every gateway instance that uses it: each admission or settlement is one run
 * of lua/token-buckets.lua (EVALSHA, and EVAL when the server does not know the script yet, which also loads
 * it), so the check and the take are one atomic step and time comes from Redis. Keys:
 * {@code caravan:rl:req:<key id>} and {@code caravan:rl:tok:<key id>}, expiring once full again.
 * <p>
 * Every call is bounded by {@code timeoutMillis}: a Redis that does not answer fails the future, and the caller
 * decides (the rate-limit step fails open).
 */
public final class RedisBuckets implements BucketStore {

    static final String SCRIPT_RESOURCE = "/lua/token-buckets.lua";
    private static final String PREFIX = "caravan:rl:";

    private final RedisConnection redis;
    private final Vertx vertx;
    private final long timeoutMillis;
    private final String script;
    private final String sha;

    public RedisBuckets(RedisConnection redis, Vertx vertx, long timeoutMillis) {
        this.redis = redis;
        this.vertx = vertx;
        this.timeoutMillis = timeoutMillis;
        this.script = loadScript();
        this.sha = sha1(script);
    }

    public static String requestKey(String id) {
        return PREFIX + "req:" + id;
    }

    public static String tokenKey(String id) {
        return PREFIX + "tok:" + id;
    }

    @Override
    public Future<Admission> take(Limits limits, long tokens) {
        return run(limits, tokens, true).map(reply -> new Admission(Admission.refusal(reply.get(0).toLong()),
                reply.get(1).toDouble(), reply.get(2).toDouble(), reply.get(3).toLong()));
    }

    @Override
    public Future<Void> giveBack(Limits limits, long tokens) {
        if (!limits.limitsTokens() || tokens == 0) {
            return Future.succeededFuture();
        }
        return run(limits, -tokens, false).mapEmpty();
    }

    @Override
    public String kind() {
        return "redis";
    }

    private Future<Response> run(Limits limits, long tokens, boolean admission) {
        List<String> args = new ArrayList<>(10);
        args.add(sha);
        args.add("2");
        args.add(requestKey(limits.id()));
        args.add(tokenKey(limits.id()));
        args.add(Long.toString(limits.limitsRequests() ? limits.requestCapacity() : 0));
        args.add(Long.toString(limits.requestsPerMin()));
        args.add(Long.toString(limits.limitsTokens() ? limits.tokenCapacity() : 0));
        args.add(Long.toString(limits.tokensPerMin()));
        args.add(Long.toString(tokens));
        args.add(admission ? "1" : "0");
        Promise<Response> result = Promise.promise();
        long timer = vertx.setTimer(timeoutMillis, id -> result.tryFail(new TimeoutException(
                "Redis did not answer within " + timeoutMillis + " ms")));
        redis.api().evalsha(args).recover(failure -> {
            if (failure instanceof ErrorType error && error.is("NOSCRIPT")) {
                List<String> withScript = new ArrayList<>(args);
                withScript.set(0, script);
                return redis.api().eval(withScript);
            }
            return Future.failedFuture(failure);
        }).onComplete(ar -> {
            vertx.cancelTimer(timer);
            if (ar.succeeded()) {
                result.tryComplete(ar.result());
            } else {
                result.tryFail(ar.cause());
            }
        });
        return result.future();
    }

    private static String loadScript() {
        try (InputStream in = RedisBuckets.class.getResourceAsStream(SCRIPT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(SCRIPT_RESOURCE + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(SCRIPT_RESOURCE + " cannot be read", e);
        }
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
