package dev.caravan.config;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.openai.Json;
import dev.caravan.support.Await;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.LogCapture;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Hot reload without a restart (DESIGN §1, §3, §10): gateway.yaml edits take effect, a broken edit is refused
 * and the previous configuration stays; edited routes/*.camel.yaml take effect, the Java-made lanes survive,
 * and a route file that does not parse is refused.
 */
class HotReloadTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final Duration RELOAD_DEADLINE = Duration.ofSeconds(10);

    @TempDir
    Path tmp;
    @RegisterExtension
    final LogCapture logs = LogCapture.perTest();

    static HttpResponse<String> chat(GatewayInstance gateway, String model) {
        return gateway.send(Calls.chatRequest(gateway, Calls.body(model, "hello")).timeout(TIMEOUT).build());
    }

    static HttpResponse<String> get(GatewayInstance gateway, String path) {
        return gateway.send(HttpRequest.newBuilder(gateway.uri(path)).timeout(TIMEOUT).GET().build());
    }

    static <T> T awaitValue(String what, Supplier<T> poll, Predicate<T> done, Duration deadline) {
        return Await.value(what, poll, done, deadline);
    }

    // -- gateway.yaml ------------------------------------------------------------------------------------------

    static String config(String url, int maxConcurrent, String... models) {
        StringBuilder yaml = new StringBuilder("""
                backends:
                  emu:
                    type: openai
                    url: %s
                    max-concurrent: %d
                models:
                """.formatted(url, maxConcurrent));
        for (String model : models) {
            yaml.append("  ").append(model).append(": {backend: emu, upstream-model: emu-model}\n");
        }
        return yaml.toString();
    }

    @Test
    void gatewayYamlEditsApplyAndBrokenEditsAreRefused() throws Exception {
        try (UpstreamEmulator emulator = UpstreamEmulator.start();
             GatewayInstance gateway = GatewayInstance.builder().config(config(emulator.baseUrl(), 1, "a")).start()) {
            assertEquals(200, chat(gateway, "a").statusCode(), chat(gateway, "a").body());
            HttpResponse<String> unknown = chat(gateway, "b");
            assertEquals(404, unknown.statusCode(), unknown.body());
            assertEquals("model_not_found", Json.MAPPER.readTree(unknown.body()).at("/error/code").asText());

            // 1. an edit that adds model b takes effect without a restart
            gateway.writeConfig(config(emulator.baseUrl(), 1, "a", "b"));
            awaitValue("model b answers after gateway.yaml added it", () -> chat(gateway, "b"),
                    r -> r.statusCode() == 200, RELOAD_DEADLINE);
            assertEquals(200, chat(gateway, "a").statusCode());

            // 2. a broken edit (an unknown key; it would also drop b) is refused with a log line naming file and key
            gateway.writeConfig(config(emulator.baseUrl(), 1, "a").replace("max-concurrent: 1",
                    "max-concurrent: 1\n    max-concurency: 4"));
            awaitValue("a log line refusing the broken gateway.yaml",
                    () -> logs.find(e -> e.level().isMoreSpecificThan(Level.WARN)
                            && e.message().contains(gateway.configFile().toString())
                            && e.message().contains("max-concurency")),
                    m -> m != null, RELOAD_DEADLINE);
            // the previous configuration stays in force: b keeps answering, over many reload polls (100 ms each)
            long end = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            int checked = 0;
            while (System.nanoTime() - end < 0) {
                HttpResponse<String> r = chat(gateway, "b");
                assertEquals(200, r.statusCode(), "after the broken edit, request " + checked + ": " + r.body());
                checked++;
            }
            assertTrue(checked > 0);
            JsonNode health = Json.MAPPER.readTree(get(gateway, "/health").body());
            assertEquals(1, health.at("/backends/emu/lane/max_concurrent").asInt(), health.toString());

            // the lane holds 1 upstream call at a time
            emulator.reset().firstTokenDelayMs(300);
            List<CompletableFuture<HttpResponse<String>>> two = concurrentChats(gateway, "b", 2);
            for (CompletableFuture<HttpResponse<String>> f : two) {
                assertEquals(200, f.get().statusCode(), f.get().body());
            }
            assertEquals(1, emulator.maxInFlight(), "max-concurrent 1 before the fix");

            // 3. a fixed edit that raises max-concurrent applies in place
            gateway.writeConfig(config(emulator.baseUrl(), 3, "a", "b"));
            awaitValue("/health shows max_concurrent 3", () -> laneMax(gateway, "emu"), n -> n == 3, RELOAD_DEADLINE);
            emulator.reset().firstTokenDelayMs(1500);
            List<CompletableFuture<HttpResponse<String>>> three = concurrentChats(gateway, "b", 3);
            assertTrue(emulator.awaitInFlight(3, Duration.ofSeconds(5)),
                    "3 upstream calls at once after max-concurrent 3; in flight: " + emulator.inFlight());
            for (CompletableFuture<HttpResponse<String>> f : three) {
                HttpResponse<String> r = f.get();
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(UpstreamEmulator.DEFAULT_REPLY,
                        Json.MAPPER.readTree(r.body()).at("/choices/0/message/content").asText());
            }
            assertEquals(3, emulator.maxInFlight());
        }
    }

    private static int laneMax(GatewayInstance gateway, String backend) {
        try {
            return Json.MAPPER.readTree(get(gateway, "/health").body())
                    .path("backends").path(backend).path("lane").path("max_concurrent").asInt(-1);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<CompletableFuture<HttpResponse<String>>> concurrentChats(GatewayInstance gateway,
                                                                               String model, int n) {
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            futures.add(gateway.http().sendAsync(HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                    .timeout(TIMEOUT).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + model
                            + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hello " + i + "\"}]}"))
                    .build(), HttpResponse.BodyHandlers.ofString()));
        }
        return futures;
    }

    // -- routes/ -----------------------------------------------------------------------------------------------

    @Test
    void editedRoutesApplyLanesSurviveAndBrokenRouteFilesAreRefused() throws Exception {
        Path routes = Files.createDirectories(tmp.resolve("routes"));
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".camel.yaml"))::iterator) {
                Files.copy(file, routes.resolve(file.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Path api = routes.resolve("10-api.camel.yaml");
        String original = Files.readString(api);
        String marker = "\"name\":\"caravan\"";
        assertTrue(original.contains(marker), "the status route's constant body names the gateway");

        try (GatewayInstance gateway = GatewayInstance.builder().watchingRoutes(routes).start()) {
            HttpResponse<String> before = get(gateway, "/");
            assertEquals(200, before.statusCode(), before.body());
            assertTrue(before.body().contains(marker), before.body());
            assertEquals(200, chat(gateway, "caravan-echo").statusCode());

            // 1. an edited status route answers without a restart
            String edited = original.replace(marker, "\"name\":\"caravan-edited\"");
            HttpResponse<String> after = awaitWhileRewriting(api, edited, () -> get(gateway, "/"),
                    r -> r.statusCode() == 200 && r.body().contains("caravan-edited"));
            assertEquals("ok", Json.MAPPER.readTree(after.body()).path("status").asText(), after.body());
            // one write can fire the watcher more than once: wait until no api route restarted for a while
            awaitRoutesSettled(gateway);
            assertEquals(200, get(gateway, "/v1").statusCode());

            // the lanes (a Java-side template instantiation) survived the reload, and chat goes through them
            assertNotNull(gateway.camel().getRoute("lane-local"), "lane-local after the reload");
            HttpResponse<String> chat = chat(gateway, "caravan-echo");
            assertEquals(200, chat.statusCode(), chat.body());
            assertEquals("You said: hello", Json.MAPPER.readTree(chat.body()).at("/choices/0/message/content").asText());
            assertEquals("local", chat.headers().firstValue("x-caravan-backend").orElse(""));
            // errors are still OpenAI errors on the reloaded api routes
            HttpResponse<String> missing = chat(gateway, "no-such-model");
            assertEquals(404, missing.statusCode(), missing.body());
            assertEquals("model_not_found", Json.MAPPER.readTree(missing.body()).at("/error/code").asText());

            // 2. a route file that does not parse is refused; the last good routes keep answering
            String broken = edited.replace("\"name\":\"caravan-edited\"", "\"name\":\"caravan-broken\"")
                    + "\n- route:\n    id: broken\n   from: [unclosed\n";
            int refusalsBefore = logs.count(e -> e.message().contains("10-api.camel.yaml")
                    && e.level().isMoreSpecificThan(Level.WARN));
            Files.writeString(api, broken);
            awaitValue("a WARN refusing the broken 10-api.camel.yaml",
                    () -> logs.count(e -> e.message().contains("10-api.camel.yaml")
                            && e.level().isMoreSpecificThan(Level.WARN)),
                    n -> n > refusalsBefore, Duration.ofSeconds(15));
            HttpResponse<String> still = get(gateway, "/");
            assertEquals(200, still.statusCode(), still.body());
            assertTrue(still.body().contains("caravan-edited"), "the last good status route answers: " + still.body());
            HttpResponse<String> chatAfter = chat(gateway, "caravan-echo");
            assertEquals(200, chatAfter.statusCode(), chatAfter.body());
        }
    }

    /** Waits until every api route has run for 1.5 s without a restart, so no reload is still under way. */
    static void awaitRoutesSettled(GatewayInstance gateway) {
        awaitValue("api routes running for 1.5 s without a reload",
                () -> gateway.camel().getRoutes().stream()
                        .filter(r -> r.getRouteId().startsWith("api-"))
                        .mapToLong(org.apache.camel.Route::getUptimeMillis).min().orElse(0),
                uptime -> uptime >= 1500, Duration.ofSeconds(30));
    }

    /**
     * Writes the file and waits for the effect; rewrites it every 2 s while not seen, in case the watcher started
     * watching the directory after the first write.
     */
    private static HttpResponse<String> awaitWhileRewriting(Path file, String content,
                                                            Supplier<HttpResponse<String>> poll,
                                                            Predicate<HttpResponse<String>> done) throws IOException {
        long end = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        long nextWrite = 0;
        HttpResponse<String> last = null;
        while (System.nanoTime() - end < 0) {
            if (System.nanoTime() - nextWrite >= 0) {
                Files.writeString(file, content);
                nextWrite = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            }
            last = poll.get();
            if (done.test(last)) {
                return last;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000);
        }
        fail("the edited route did not take effect within 15 s; last: " + Await.describe(last));
        return null;
    }

    // -- log capture -------------------------------------------------------------------------------------------
}
