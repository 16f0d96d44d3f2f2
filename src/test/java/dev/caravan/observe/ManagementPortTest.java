package dev.caravan.observe;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.Await;
import dev.caravan.support.Calls;
import dev.caravan.support.EmulatedGateway;
import dev.caravan.support.GatewayInstance;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static dev.caravan.support.Calls.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The management port as an operator and Kubernetes use it, over HTTP: Camel's health checks with Caravan's
 * (liveness, readiness, everything), the dev console's Caravan page and Jolokia, both behind the admin key.
 */
class ManagementPortTest {

    private static final String ADMIN = "admin-secret-key";
    private static final String USER = "sk-user-key-1";
    private static final String CONFIG = """
            backends:
              emu: {type: openai, url: "%s", max-concurrent: 2, queue-size: 10}
            models:
              m: {backend: emu}
            keys:
              - {key: "%s", name: user, models: ["*"]}
            """;
    private static final MBeanServer JMX = ManagementFactory.getPlatformMBeanServer();

    @RegisterExtension
    static final EmulatedGateway env = EmulatedGateway.withEmulator(emulator -> CONFIG.formatted(emulator.baseUrl(), USER))
            .property("gateway.admin-api-key", ADMIN)
            .property("gateway.dev-console-enabled", "true")
            .property("camel.management.jolokia-enabled", "true")
            .property("gateway.retry.max-attempts", "1")
            // circuits open here only when forced
            .property("gateway.circuit.minimum-calls", "10000")
            .property("gateway.circuit.sliding-window-size", "10000");

    @AfterEach
    void restore() throws Exception {
        JMX.invoke(name("lanes"), "resume", null, null);
        JMX.invoke(name("circuits"), "reset", null, null);
    }

    @Test
    void livenessReadinessAndAllAnswerUpWhenAllIsWell() {
        HttpResponse<String> ready = management("/observe/health/ready");
        assertEquals(200, ready.statusCode(), ready.body());
        assertEquals("UP", json(ready.body()).path("status").asText());
        assertEquals(200, management("/observe/health/live").statusCode());
        HttpResponse<String> all = management("/observe/health?exposureLevel=full&data=true");
        assertEquals(200, all.statusCode(), all.body());
        JsonNode checks = json(all.body()).path("checks");
        assertEquals("UP", check(checks, "caravan:gateway").path("status").asText(), all.body());
        assertEquals("UP", check(checks, "caravan:lane:emu").path("status").asText(), all.body());
        assertEquals("closed", check(checks, "caravan:backend:emu").at("/data/circuit").asText(), all.body());
        assertEquals("UP", check(checks, "context").path("status").asText(), all.body());
        // /health on the API port stays as it is
        assertEquals("ok", json(env.gateway().get("/health").body()).path("status").asText());
    }

    @Test
    void aPausedLaneAndAnOpenCircuitShowDownInAllButLeaveTheProbesUp() throws Exception {
        JMX.invoke(name("lanes"), "pause", null, null);
        JMX.invoke(name("circuits"), "forceOpen", null, null);
        HttpResponse<String> all = management("/observe/health?exposureLevel=full");
        assertEquals(503, all.statusCode(), all.body());
        JsonNode checks = json(all.body()).path("checks");
        assertEquals("DOWN", check(checks, "caravan:lane:emu").path("status").asText(), all.body());
        assertTrue(check(checks, "caravan:lane:emu").path("message").asText().startsWith("paused"), all.body());
        assertEquals("DOWN", check(checks, "caravan:backend:emu").path("status").asText(), all.body());
        // shared causes: one backend's trouble must not take every replica out of the Service
        assertEquals(200, management("/observe/health/ready").statusCode());
        assertEquals(200, management("/observe/health/live").statusCode());
        JMX.invoke(name("lanes"), "resume", null, null);
        JMX.invoke(name("circuits"), "forceClosed", null, null);
        assertEquals(200, management("/observe/health").statusCode());
    }

    @Test
    void jolokiaNeedsTheAdminKey() {
        // the MBean name in the path, its quotes encoded
        String path = "/observe/jolokia/read/" + mbean("lanes").replace("\"", "%22") + "/InFlight";
        assertEquals(401, management(path).statusCode());
        assertEquals(403, management(path, "Authorization", "Bearer " + USER).statusCode());
        assertEquals(403, management(path, "Authorization", "Bearer not-a-key").statusCode());
        HttpResponse<String> read = management(path, "Authorization", "Bearer " + ADMIN);
        assertEquals(200, read.statusCode(), read.body());
        assertEquals(200, json(read.body()).path("status").asInt(), read.body());
        assertEquals(0, json(read.body()).path("value").asInt(), read.body());
    }

    @Test
    void jolokiaKeepsEvenTheAdminKeyFromDiagnosticCommandsHeapDumpsAndRouteInjection() {
        String diagnostic = """
                {"type":"exec","mbean":"com.sun.management:type=DiagnosticCommand","operation":"vmVersion"}""";
        assertRefused(managementPost("/observe/jolokia", diagnostic, "x-api-key", ADMIN));
        String heapDump = """
                {"type":"exec","mbean":"com.sun.management:type=HotSpotDiagnostic","operation":"dumpHeap",
                 "arguments":["/tmp/caravan-heap.hprof",true]}""";
        assertRefused(managementPost("/observe/jolokia", heapDump, "x-api-key", ADMIN));
        String context = "org.apache.camel:context=" + env.gateway().camel().getManagementName() + ",type=context,name=\\\""
                + env.gateway().camel().getName() + "\\\"";
        String send = """
                {"type":"exec","mbean":"%s","operation":"sendBody","arguments":["log:x","hi"]}""".formatted(context);
        assertRefused(managementPost("/observe/jolokia", send, "x-api-key", ADMIN));
        // reads of the JVM's own MBeans stay allowed
        HttpResponse<String> memory = managementPost("/observe/jolokia",
                "{\"type\":\"read\",\"mbean\":\"java.lang:type=Memory\",\"attribute\":\"HeapMemoryUsage\"}",
                "x-api-key", ADMIN);
        assertEquals(200, json(memory.body()).path("status").asInt(), memory.body());
    }

    private static void assertRefused(HttpResponse<String> reply) {
        int status = reply.statusCode() == 200 ? json(reply.body()).path("status").asInt() : reply.statusCode();
        assertEquals(403, status, reply.body());
    }

    @Test
    void jolokiaPausesAndResumesALane() throws Exception {
        String exec = """
                {"type":"exec","mbean":"%s","operation":"%s"}""";
        // in JSON the quotes of the MBean name are escaped: name=\"emu\"
        String lane = mbean("lanes").replace("\"", "\\\"");
        HttpResponse<String> paused = managementPost("/observe/jolokia", exec.formatted(lane, "pause"),
                "x-api-key", ADMIN);
        assertEquals(200, paused.statusCode(), paused.body());
        assertEquals(200, json(paused.body()).path("status").asInt(), paused.body());
        assertEquals(true, JMX.getAttribute(name("lanes"), "Paused"));
        assertEquals("paused", json(env.gateway().get("/health").body()).at("/backends/emu/status").asText());
        HttpResponse<String> refused = managementPost("/observe/jolokia", exec.formatted(lane, "resume"));
        assertEquals(401, refused.statusCode());
        assertEquals(true, JMX.getAttribute(name("lanes"), "Paused"));
        managementPost("/observe/jolokia", exec.formatted(lane, "resume"), "x-api-key", ADMIN);
        assertEquals(false, JMX.getAttribute(name("lanes"), "Paused"));
    }

    /** The README's two curl commands, as written (its host, context and backend swapped for this gateway's). */
    @Test
    void theReadmesJolokiaCurlsReadALanesInFlightAndPauseIt() throws Exception {
        String readme = java.nio.file.Files.readString(java.nio.file.Path.of("README.md"));
        java.util.regex.Matcher read = java.util.regex.Pattern.compile("'(http://localhost:9098/observe/jolokia/read/[^']+)'")
                .matcher(readme);
        java.util.regex.Matcher pause = java.util.regex.Pattern.compile("-d '(\\{\"type\":\"exec\"[^']+)'").matcher(readme);
        assertTrue(read.find() && pause.find(), "the README shows both curls");
        String base = "http://127.0.0.1:" + env.gateway().managementPort();
        String context = "context=" + env.gateway().camel().getManagementName();
        String url = read.group(1).replace("http://localhost:9098", base).replace("context=caravan", context)
                .replace("%22gpu%22", "%22emu%22");
        HttpResponse<String> inFlight = env.gateway().send(HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + ADMIN).GET().build());
        assertEquals(200, json(inFlight.body()).path("status").asInt(), inFlight.body());
        assertEquals(0, json(inFlight.body()).path("value").asInt(), inFlight.body());
        String body = pause.group(1).replace("context=caravan", context).replace("\\\"gpu\\\"", "\\\"emu\\\"");
        HttpResponse<String> paused = managementPost("/observe/jolokia", body, "Authorization", "Bearer " + ADMIN);
        assertEquals(200, json(paused.body()).path("status").asInt(), paused.body());
        assertEquals(true, JMX.getAttribute(name("lanes"), "Paused"));
    }

    @Test
    void theCaravanConsoleShowsLanesBackendsAndRecentErrors() {
        env.upstream().failNext(1, 500).failMessage("the GPU fell over");
        HttpResponse<String> failed = Calls.chat(env.gateway(), "m", "Authorization", "Bearer " + USER);
        assertEquals(502, failed.statusCode(), failed.body());
        assertEquals(401, management("/q/dev/caravan").statusCode());
        assertEquals(403, management("/q/dev/caravan", "x-api-key", USER).statusCode());
        HttpResponse<String> page = management("/q/dev/caravan", "x-api-key", ADMIN, "Accept", "application/json");
        assertEquals(200, page.statusCode(), page.body());
        JsonNode console = json(page.body());
        assertEquals("ready", console.at("/caravan/status").asText(), page.body());
        assertEquals(2, console.at("/caravan/lanes/emu/max_concurrent").asInt(), page.body());
        assertEquals("closed", console.at("/caravan/backends/emu/circuit").asText(), page.body());
        JsonNode error = console.at("/caravan/backends/emu/recent_errors/0");
        assertEquals(500, error.path("upstream_status").asInt(), page.body());
        assertEquals("m", error.path("model").asText(), page.body());
        assertFalse(page.body().contains(USER), "no key in the console");
        HttpResponse<String> text = management("/q/dev/caravan", "x-api-key", ADMIN);
        assertTrue(text.body().contains("Lanes:") && text.body().contains("emu"), text.body());
        // the backend check tells the same, passively
        JsonNode backend = check(json(management("/observe/health?exposureLevel=full&data=true").body()).path("checks"),
                "caravan:backend:emu");
        assertEquals(1, backend.at("/data/recent_errors").asInt(), backend.toString());
    }

    @Test
    void jolokiaAndTheConsoleAreOffByDefaultAndJolokiaWithoutAnAdminKeyRefusesEveryone() throws Exception {
        try (GatewayInstance plain = GatewayInstance.builder().start()) {
            assertEquals(404, get(plain.managementPort(), "/observe/jolokia/version").statusCode());
            assertEquals(404, get(plain.managementPort(), "/q/dev/caravan").statusCode());
            assertEquals(200, get(plain.managementPort(), "/observe/health/ready").statusCode());
        }
        try (GatewayInstance open = GatewayInstance.builder().property("camel.management.jolokia-enabled", "true")
                .start()) {
            assertEquals(403, get(open.managementPort(), "/observe/jolokia/version").statusCode());
        }
    }

    @Test
    void redisThatDoesNotAnswerIsDownInAllAndInReadinessOnlyWhenAskedFor() {
        String nowhere = "redis://127.0.0.1:" + GatewayInstance.freePort();
        try (GatewayInstance gateway = GatewayInstance.builder().property("gateway.redis-url", nowhere)
                .property("gateway.health-redis-timeout-ms", "200").start()) {
            HttpResponse<String> all = get(gateway.managementPort(), "/observe/health");
            assertEquals(503, all.statusCode(), all.body());
            assertEquals("DOWN", check(json(all.body()).path("checks"), "caravan:redis").path("status").asText());
            assertEquals(200, get(gateway.managementPort(), "/observe/health/ready").statusCode());
        }
        try (GatewayInstance strict = GatewayInstance.builder().property("gateway.redis-url", nowhere)
                .property("gateway.health-redis-timeout-ms", "200")
                .property("gateway.health.backends-in-readiness", "true").start()) {
            HttpResponse<String> ready = get(strict.managementPort(), "/observe/health/ready");
            assertEquals(503, ready.statusCode(), ready.body());
            assertEquals("DOWN", check(json(ready.body()).path("checks"), "caravan:redis").path("status").asText());
        }
    }

    @Test
    void readinessGoesDownAtOnceWhenTheGatewayDrains() throws Exception {
        try (UpstreamEmulator upstream = UpstreamEmulator.start()) {
            upstream.reply("one two three four five six seven eight nine ten").tokenDelayMs(300); // a 3 s stream
            GatewayInstance gateway = GatewayInstance.builder().config("""
                    backends:
                      emu: {type: openai, url: "%s"}
                    models:
                      slow: {backend: emu}
                    """.formatted(upstream.baseUrl())).start();
            CompletableFuture<HttpResponse<String>> stream = Calls.sendAsync(gateway, Calls.chatRequest(gateway,
                    Calls.body("slow", true)));
            assertTrue(upstream.awaitInFlight(1, Duration.ofSeconds(10)), "the stream reached the upstream");
            assertEquals(200, get(gateway.managementPort(), "/observe/health/ready").statusCode());
            CompletableFuture<Void> stopped = CompletableFuture.runAsync(gateway::close);
            HttpResponse<String> ready = Await.value("readiness down",
                    () -> get(gateway.managementPort(), "/observe/health/ready"), r -> r.statusCode() == 503,
                    Duration.ofSeconds(5));
            assertFalse(stream.isDone(), "the stream is still in flight while readiness is down");
            JsonNode gatewayCheck = check(json(ready.body()).path("checks"), "caravan:gateway");
            assertEquals("DOWN", gatewayCheck.path("status").asText(), ready.body());
            assertEquals(200, stream.get(20, TimeUnit.SECONDS).statusCode());
            stopped.get(30, TimeUnit.SECONDS);
        }
    }

    private static JsonNode check(JsonNode checks, String id) {
        for (JsonNode check : checks) {
            if (id.equals(check.path("name").asText())) {
                return check;
            }
        }
        throw new AssertionError("no check " + id + " in " + checks);
    }

    private static String mbean(String type) {
        return "org.apache.camel:context=" + env.gateway().camel().getManagementName() + ",type=" + type
                + ",name=\"emu\"";
    }

    private static ObjectName name(String type) throws Exception {
        return new ObjectName(mbean(type));
    }

    private static HttpResponse<String> management(String path, String... headers) {
        return get(env.gateway().managementPort(), path, headers);
    }

    private static HttpResponse<String> get(int port, String path, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).GET();
        if (headers.length > 0) {
            request.headers(headers);
        }
        return env.gateway().send(request.build());
    }

    private static HttpResponse<String> managementPost(String path, String body, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + env.gateway().managementPort() + path))
                .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (headers.length > 0) {
            request.headers(headers);
        }
        return env.gateway().send(request.build());
    }
}
