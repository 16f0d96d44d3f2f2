package dev.caravan.limits;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.GatewayProcess;
import dev.caravan.support.RawHttp;
import io.vertx.redis.client.Response;

import dev.caravan.support.GatewayInstance;
import dev.caravan.support.RedisServer;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rate-limit scenarios with the buckets in a real Redis; then what only Redis gives: two gateway instances
 * enforcing one limit, the buckets under their documented keys with a TTL, and a Redis that is down or silent
 * letting requests through (fail open) instead of failing them.
 */
class RedisRateLimitTest extends RateLimitScenarios {

    private RedisServer redis;

    @Override
    GatewayInstance.Builder gatewayBuilder() {
        redis = RedisServer.start();
        return GatewayInstance.builder().property("gateway.redis-url", redis.url());
    }

    @AfterAll
    void stopRedis() {
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void twoInstancesOnOneRedisEnforceOneLimit() throws Exception {
        try (GatewayInstance second = GatewayInstance.builder().config(yaml(upstream))
                .property("gateway.redis-url", redis.url()).start()) {
            // sk-shared: burst 4, 6 a minute (no refill within the test)
            List<Integer> statuses = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                statuses.add(chat(i % 2 == 0 ? gateway : second, "sk-shared", 16).statusCode());
            }
            assertEquals(List.of(200, 200, 200, 200), statuses);
            HttpResponse<String> fifthOnFirst = chat(gateway, "sk-shared", 16);
            rateLimited(fifthOnFirst);
            assertEquals("0", header(fifthOnFirst, "x-ratelimit-remaining-requests"));
            rateLimited(chat(second, "sk-shared", 16));
            assertEquals(4, upstream.requests(), "four passed in all, across both instances");
        }
    }

    @Test
    void bucketsLiveUnderTheirDocumentedKeysAndExpire() throws Exception {
        assertEquals(200, chat(gateway, "sk-tok-settle", 16).statusCode());
        String id = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest("sk-tok-settle".getBytes(StandardCharsets.UTF_8))).substring(0, 16);
        Vertx vertx = Vertx.vertx();
        try {
            RedisAPI api = RedisAPI.api(Redis.createClient(vertx, redis.url()));
            long ttl = api.pttl(RedisBuckets.tokenKey(id)).toCompletionStage().toCompletableFuture()
                    .get(10, TimeUnit.SECONDS).toLong();
            assertTrue(ttl > 0 && ttl <= 61_000, "caravan:rl:tok:" + id + " PTTL " + ttl);
            assertEquals("caravan:rl:tok:" + id, RedisBuckets.tokenKey(id));
            // the key value itself is nowhere in Redis
            String keys = api.keys("*").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).toString();
            assertTrue(!keys.contains("sk-") && keys.contains("caravan:rl:tok:" + id), keys);
            api.close();
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    /**
     * A gateway in its own JVM reserves ~906 of sk-tok-crash's 1000 tokens for a request the upstream holds; while
     * it lives it renews the hold's lease (2 s here), so the tokens stay reserved past the first lease; then it is
     * killed with SIGKILL mid-request. Within a lease the tokens come back (the bucket alone would need ~50 s).
     */
    @Test
    void theReservationOfAKilledInstanceComesBackWithinItsLease() throws Exception {
        String holds = RedisBuckets.holdsKey(keyId("sk-tok-crash"));
        Vertx vertx = Vertx.vertx();
        RedisAPI api = RedisAPI.api(Redis.createClient(vertx, redis.url()));
        upstream.hangNext(1);
        try (GatewayProcess doomed = GatewayProcess.start(yaml(upstream), Map.of("REDIS_URL", redis.url(),
                "TOKEN_RESERVATION_LEASE_SECONDS", "2"));
             RawHttp holder = RawHttp.postJson(doomed.port(), "/v1/chat/completions", body(900, false),
                     "x-api-key: sk-tok-crash")) {
            assertTrue(upstream.awaitRequests(1, TIMEOUT), "the request did not reach the upstream");
            double firstLease = leaseEnd(api, holds);
            assertTrue(firstLease > 0, "no hold in " + holds);
            // renewed while the request runs: past its first lease, the hold is still there and the tokens too
            assertTrue(UpstreamEmulator.await(() -> redisMillis(api) > firstLease + 500, TIMEOUT));
            assertTrue(leaseEnd(api, holds) > firstLease, "the live instance did not renew its hold");
            rateLimited(chat(gateway, "sk-tok-crash", 900));

            doomed.kill();
            long killed = System.nanoTime();
            HttpResponse<String> after = retryAsTold(() -> chat(gateway, "sk-tok-crash", 900), Duration.ofSeconds(8));
            assertEquals(200, after.statusCode(), "the dead instance's reservation was not given back: " + after.body());
            assertTrue(Duration.ofNanos(System.nanoTime() - killed).toMillis() < 5_000);
        } finally {
            api.close();
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    private static String keyId(String key) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(key.getBytes(StandardCharsets.UTF_8))).substring(0, 16);
    }

    /** The latest lease end (Redis ms) of the holds in {@code key}, or 0 when there is none. */
    private static double leaseEnd(RedisAPI api, String key) throws Exception {
        Response held = api.zrange(List.of(key, "-1", "-1", "WITHSCORES")).toCompletionStage()
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        if (held == null || held.size() == 0) {
            return 0;
        }
        Response last = held.get(held.size() - 1);
        return last.type() == io.vertx.redis.client.ResponseType.MULTI ? last.get(1).toDouble() : last.toDouble();
    }

    private static double redisMillis(RedisAPI api) {
        try {
            Response time = api.time().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            return time.get(0).toLong() * 1000.0 + time.get(1).toLong() / 1000.0;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aRedisThatIsDownLetsRequestsThrough() throws Exception {
        int nothingListens = GatewayInstance.freePort();
        try (GatewayInstance failOpen = GatewayInstance.builder().config(yaml(upstream))
                .property("gateway.redis-url", "redis://127.0.0.1:" + nothingListens).start()) {
            for (int i = 0; i < 6; i++) { // sk-refill's burst is 2: Redis would refuse the third
                HttpResponse<String> response = chat(failOpen, "sk-refill", 16);
                assertEquals(200, response.statusCode(), response.body());
                assertTrue(response.headers().firstValue("x-ratelimit-remaining-requests").isEmpty());
            }
        }
    }

    @Test
    void aRedisThatDoesNotAnswerLetsRequestsThroughAfterTheTimeout() throws Exception {
        try (ServerSocket silent = new ServerSocket(0);
             GatewayInstance failOpen = GatewayInstance.builder().config(yaml(upstream))
                     .property("gateway.redis-url", "redis://127.0.0.1:" + silent.getLocalPort())
                     .property("gateway.rate-limit-redis-timeout-ms", "200").start()) {
            List<Socket> accepted = new ArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (!silent.isClosed()) {
                        accepted.add(silent.accept()); // and never a byte back
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            for (int i = 0; i < 3; i++) {
                long start = System.nanoTime();
                HttpResponse<String> response = chat(failOpen, "sk-refill", 16);
                long millis = (System.nanoTime() - start) / 1_000_000;
                assertEquals(200, response.statusCode(), response.body());
                assertTrue(millis < 5_000, "took " + millis + " ms");
            }
            for (Socket socket : accepted) {
                socket.close();
            }
        }
    }
}
