package dev.caravan.limits;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import dev.caravan.support.GatewayInstance;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The rate-limit scenarios with the buckets in memory (no REDIS_URL); and the shared bucket of auth-off. */
class MemoryRateLimitTest extends RateLimitScenarios {

    @Override
    GatewayInstance.Builder gatewayBuilder() {
        return GatewayInstance.builder();
    }

    @Test
    void withoutKeysEveryoneSharesOneAnonymousBucketAtTheDefaultRate() throws Exception {
        try (GatewayInstance open = GatewayInstance.builder().config("""
                backends:
                  emu: {type: openai, url: "%s"}
                models:
                  emu-model: {backend: emu}
                """.formatted(upstream.baseUrl()))
                .property("gateway.rate-limit-per-min", "6") // burst 0: the same as the per-minute rate
                .start()) {
            for (int i = 0; i < 6; i++) {
                HttpResponse<String> ok = anonymous(open, i % 2 == 0 ? null : "Bearer client-" + i);
                assertEquals(200, ok.statusCode(), ok.body());
                assertEquals("6", header(ok, "x-ratelimit-limit-requests"));
            }
            rateLimited(anonymous(open, "Bearer yet-another-client"));
            assertEquals(6, upstream.requests());
        }
    }

    private static HttpResponse<String> anonymous(GatewayInstance g, String authorization) {
        HttpRequest.Builder request = HttpRequest.newBuilder(g.uri("/v1/chat/completions")).timeout(TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body(16, false)));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return g.send(request.build());
    }
}
