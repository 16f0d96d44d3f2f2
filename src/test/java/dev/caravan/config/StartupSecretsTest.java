package dev.caravan.config;

import java.util.List;

import dev.caravan.support.GatewayInstance;
import dev.caravan.support.LogCapture;
import dev.caravan.support.RedisServer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * camel-main logs a summary of the properties it resolved at start-up. Started with API_KEYS_JSON, ADMIN_API_KEY, a
 * REDIS_URL with a password and a gateway.yaml holding keys, the gateway's whole log (summary included, at INFO)
 * shows none of them: in the test's JVM (settings as override properties) and in a JVM of its own (settings as
 * environment variables).
 */
class StartupSecretsTest {

    private static final String JSON_KEY = "sk-json-key-in-the-env-0123456789";
    private static final String ADMIN_KEY = "sk-admin-key-in-the-env-0123456789";
    private static final String FILE_KEY = "sk-file-key-in-gateway-yaml-0123";
    private static final String BACKEND_KEY = "sk-upstream-backend-key-0123456789";
    private static final String REDIS_PASSWORD = "redis-pa55word-never-logged";

    @Test
    void theStartupLogShowsNoKeyKeyJsonOrRedisPassword() throws Exception {
        List<String> lines = new java.util.ArrayList<>();
        try (RedisServer redis = RedisServer.start(REDIS_PASSWORD)) {
            String redisUrl = "redis://:" + REDIS_PASSWORD + "@127.0.0.1:" + redis.port();
            try (LogCapture log = LogCapture.install();
                 GatewayInstance gateway = GatewayInstance.builder().config("""
                                 backends:
                                   up: {type: openai, url: "http://127.0.0.1:9", api-key: %s}
                                 models:
                                   m: {backend: up}
                                 keys:
                                   - {key: %s, name: file-key}
                                 """.formatted(BACKEND_KEY, FILE_KEY))
                         .property("gateway.api-keys-json", "[{\"key\":\"" + JSON_KEY + "\",\"name\":\"json-key\"}]")
                         .property("gateway.admin-api-key", ADMIN_KEY)
                         .property("gateway.redis-url", redisUrl)
                         .start()) {
                // the gateway runs on that Redis (the password worked), with the keys in force
                assertEquals(200, gateway.get("/health").statusCode());
                lines.addAll(log.lines());
            }
        }
        String text = String.join("\n", lines);
        assertTrue(text.contains("summary"), "camel-main logged its start-up summary: " + text);
        assertTrue(text.contains("gateway.admin-api-key"), "the summary names the setting (masked): " + text);
        for (String secret : List.of(JSON_KEY, ADMIN_KEY, FILE_KEY, BACKEND_KEY, REDIS_PASSWORD, "\"key\":\"")) {
            assertFalse(text.contains(secret), "the log shows " + secret + ":\n" + text);
        }
    }

    /**
     * The same as an operator runs it: a separate JVM given the secrets as environment variables (API_KEYS_JSON,
     * ADMIN_API_KEY, REDIS_URL), its whole console output read once it served /health and stopped.
     */
    @Test
    void aGatewayStartedFromTheEnvironmentPrintsNoSecret() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("caravan-env-secrets");
        java.nio.file.Path config = dir.resolve("gateway.yaml");
        java.nio.file.Files.writeString(config, """
                backends:
                  up: {type: openai, url: "http://127.0.0.1:9", api-key: %s}
                models:
                  m: {backend: up}
                keys:
                  - {key: %s, name: file-key}
                """.formatted(BACKEND_KEY, FILE_KEY));
        java.nio.file.Path output = dir.resolve("console.log");
        int port = GatewayInstance.freePort();
        try (RedisServer redis = RedisServer.start(REDIS_PASSWORD)) {
            ProcessBuilder builder = new ProcessBuilder(
                    java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), "dev.caravan.CaravanMain")
                    .redirectErrorStream(true).redirectOutput(output.toFile());
            java.util.Map<String, String> env = builder.environment();
            env.put("PORT", Integer.toString(port));
            env.put("HOST", "127.0.0.1");
            env.put("MANAGEMENT_PORT", Integer.toString(GatewayInstance.freePort()));
            env.put("ROUTES_RELOAD", "false");
            env.put("GATEWAY_CONFIG", config.toString());
            env.put("API_KEYS_JSON", "[{\"key\":\"" + JSON_KEY + "\",\"name\":\"json-key\"}]");
            // by the names of the product spec, and as overrides of the property keys (GATEWAY_X_Y for gateway.x.y),
            // which the summary shows resolved
            String redisUrl = "redis://:" + REDIS_PASSWORD + "@127.0.0.1:" + redis.port();
            env.put("ADMIN_API_KEY", ADMIN_KEY);
            env.put("REDIS_URL", redisUrl);
            env.put("GATEWAY_ADMIN_API_KEY", ADMIN_KEY);
            env.put("GATEWAY_REDIS_URL", redisUrl);
            Process gateway = builder.start();
            try {
                java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
                long deadline = System.nanoTime() + java.time.Duration.ofSeconds(60).toNanos();
                int status = 0;
                while (status != 200 && System.nanoTime() < deadline && gateway.isAlive()) {
                    try {
                        status = http.send(java.net.http.HttpRequest.newBuilder(
                                        java.net.URI.create("http://127.0.0.1:" + port + "/health")).build(),
                                java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
                    } catch (java.io.IOException notYet) {
                        java.util.concurrent.locks.LockSupport.parkNanos(100_000_000);
                    }
                }
                assertEquals(200, status, "the gateway came up: " + java.nio.file.Files.readString(output));
            } finally {
                gateway.destroy();
                gateway.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
                gateway.destroyForcibly();
            }
        }
        String text = java.nio.file.Files.readString(output);
        java.nio.file.Files.delete(output);
        java.nio.file.Files.delete(config);
        java.nio.file.Files.delete(dir);
        assertTrue(text.contains("summary"), "camel-main logged its start-up summary: " + text);
        assertTrue(text.contains("gateway.admin-api-key = xxxxxx"), "the summary masks the admin key: " + text);
        for (String secret : List.of(JSON_KEY, ADMIN_KEY, FILE_KEY, BACKEND_KEY, REDIS_PASSWORD, "\"key\":\"")) {
            assertFalse(text.contains(secret), "the console shows " + secret + ":\n" + text);
        }
    }
}
