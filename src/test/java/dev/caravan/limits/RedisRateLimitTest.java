package dev.caravan.limits;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

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
