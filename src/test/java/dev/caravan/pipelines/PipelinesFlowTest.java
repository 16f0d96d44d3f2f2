package dev.caravan.pipelines;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.Await;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.LogCapture;
import dev.caravan.support.RawHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pipelines on the request path (issue 7 item 6): filters run their inlets and outlets for the models they name
 * only, in priority order, stream and non-stream; a pipe is listed in /v1/models and answered through its route;
 * the shipped examples do what the README says; pipelines added, edited and removed while requests flow fail none
 * of them, and a request finishes on the version it started with.
 */
class PipelinesFlowTest {

    static final String ADMIN = "sk-admin-flow";
    static final String USER = "sk-user-flow";
    static final String ECHO_ONLY = "sk-echo-only";

    static UpstreamEmulator upstream;
    static GatewayInstance gateway;
    static Path folder;

    @RegisterExtension
    final LogCapture logs = LogCapture.perTest();

    @BeforeAll
    static void start() throws Exception {
        upstream = UpstreamEmulator.start();
        folder = Files.createTempDirectory("caravan-pipelines-flow");
        gateway = GatewayInstance.builder().config("""
                        backends:
                          local: {type: local}
                          emu: {type: openai, url: "%s"}
                        models:
                          caravan-echo: {backend: local}
                          emu-model: {backend: emu}
                        keys:
                          - {key: %s, name: user, models: ["*"]}
                          - {key: %s, name: echo-only, models: ["caravan-echo"]}
                        """.formatted(upstream.baseUrl(), USER, ECHO_ONLY))
                .property("gateway.admin-api-key", ADMIN)
                .property("gateway.pipelines-dir", folder.toString())
                .start();
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
    }

    @AfterEach
    void emptyTheFolder() throws Exception {
        upstream.reset();
        try (var files = Files.list(folder)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
        Await.value("no pipeline left", () -> list().path("data").size(), n -> n == 0, Duration.ofSeconds(10));
    }

    // --- helpers ---------------------------------------------------------------------------------------------

    static JsonNode list() {
        return Calls.json(gateway.send(HttpRequest.newBuilder(gateway.uri("/pipelines"))
                .header("Authorization", "Bearer " + ADMIN).build()).body());
    }

    static long liveVersion(String id) {
        for (JsonNode p : list().path("data")) {
            if (id.equals(p.path("id").asText()) && "running".equals(p.path("state").asText())) {
                return p.path("version").asLong();
            }
        }
        return -1;
    }

    static void write(String name, String yaml) throws Exception {
        Path next = folder.resolve("." + name + ".tmp");
        Files.writeString(next, yaml);
        Files.move(next, folder.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Writes the file and waits until a version newer than the running one (if any) is live. */
    static void writeLive(String name, String id, String yaml) throws Exception {
        long before = liveVersion(id);
        write(name, yaml);
        Await.value(id + " live", () -> liveVersion(id), v -> v > before, Duration.ofSeconds(10));
    }

    /** A filter whose inlet appends " [tag]" to the last message and whose outlet appends " <tag>" to the reply. */
    static String tagger(String id, int priority, String models, String tag) {
        return """
                pipeline:
                  id: %s
                  type: filter
                  models: %s
                  priority: %d
                  inlet:
                    - transform: {jq: '.messages[-1].content += " [%s]"'}
                  outlet:
                    - log: {message: "outlet %s ${exchangeProperty.CaravanRequestId}", logName: dev.caravan.pipelines.test}
                    - transform: {jq: 'if .object == "chat.completion" then .choices[0].message.content += " <%s>" else . end'}
                """.formatted(id, models, priority, tag, tag, tag);
    }

    static HttpResponse<String> chat(String model, String key) {
        return Calls.chat(gateway, model, "Authorization", "Bearer " + key);
    }

    static String content(HttpResponse<String> reply) {
        assertEquals(200, reply.statusCode(), reply.body());
        return Calls.json(reply.body()).at("/choices/0/message/content").asText();
    }

    static String streamedContent(RawHttp.Response response) {
        assertEquals(200, response.status, response.body);
        StringBuilder text = new StringBuilder();
        for (String event : response.events()) {
            if (!event.equals("[DONE]")) {
                text.append(Calls.json(event).at("/choices/0/delta/content").asText(""));
            }
        }
        assertTrue(response.body.contains("data: [DONE]"), response.body);
        return text.toString();
    }

    static String header(RawHttp.Response response, String name) {
        for (Map.Entry<String, String> h : response.headers.entrySet()) {
            if (h.getKey().equalsIgnoreCase(name)) {
                return h.getValue();
            }
        }
        return null;
    }

    /** The outlets' log lines so far ("outlet <tag> <request id>"), in order. */
    private List<String> outlets() {
        String logger = "dev.caravan.pipelines.test ";
        return logs.lines().stream().filter(l -> l.startsWith(logger + "outlet "))
                .map(l -> l.substring(logger.length())).toList();
    }

    static String shipped(String file) throws Exception {
        return Files.readString(Path.of("routes/pipelines").resolve(file));
    }

    // --- tests -----------------------------------------------------------------------------------------------

    @Test
    void filtersRunForTheirModelsOnlyInPriorityOrder() throws Exception {
        writeLive("b.pipeline.yaml", "b", tagger("b", 20, "[\"emu-*\"]", "b"));
        writeLive("a.pipeline.yaml", "a", tagger("a", 10, "[\"emu-model\", \"nothing\"]", "a"));
        writeLive("x.pipeline.yaml", "x", tagger("x", 0, "[\"other-*\"]", "x"));

        // non-stream: inlets a then b rewrote what the upstream received; outlets b then a (unwinding) the reply
        String reply = content(chat("emu-model", USER));
        assertEquals(UpstreamEmulator.DEFAULT_REPLY + " <b> <a>", reply);
        assertEquals("hello [a] [b]", upstream.lastRequestBody().getJsonArray("messages").getJsonObject(0)
                .getString("content"));
        // stream: the inlets rewrote the request; the outlets saw the assembled completion, in the same order
        RawHttp.Response stream = Calls.stream(gateway, "emu-model", "Authorization: Bearer " + USER);
        assertEquals(UpstreamEmulator.DEFAULT_REPLY, streamedContent(stream));
        assertEquals("hello [a] [b]", upstream.lastRequestBody().getJsonArray("messages").getJsonObject(0)
                .getString("content"));
        // a stream's post-hooks run once it ended, which the client may see first
        List<String> outlets = Await.value("the stream's outlets", this::outlets, o -> o.size() >= 4,
                Duration.ofSeconds(5));
        assertEquals(4, outlets.size(), outlets.toString());
        assertTrue(outlets.get(2).startsWith("outlet b") && outlets.get(3).startsWith("outlet a"), outlets.toString());
        assertEquals(outlets.get(2).substring("outlet b".length()), outlets.get(3).substring("outlet a".length()),
                "both outlets ran for the same request");

        // another model: no filter runs
        assertEquals("You said: hello", content(chat("caravan-echo", USER)));
        assertEquals(4, outlets().size());
    }

    @Test
    void aPipeIsListedAndAnsweredStreamAndNonStream() throws Exception {
        writeLive("haiku.pipeline.yaml", "haiku", shipped("haiku.pipeline.yaml"));

        JsonNode models = Calls.json(gateway.send(HttpRequest.newBuilder(gateway.uri("/v1/models"))
                .header("Authorization", "Bearer " + USER).build()).body());
        JsonNode listed = null;
        for (JsonNode model : models.path("data")) {
            listed = "haiku".equals(model.path("id").asText()) ? model : listed;
        }
        assertNotNull(listed, models.toString());
        assertEquals("pipeline", listed.path("owned_by").asText());
        HttpResponse<String> one = gateway.send(HttpRequest.newBuilder(gateway.uri("/v1/models/haiku"))
                .header("Authorization", "Bearer " + USER).build());
        assertEquals(200, one.statusCode(), one.body());

        String expected = "You said: Write a haiku about: hello";
        assertEquals(expected, content(chat("haiku", USER)));
        assertEquals(expected, streamedContent(Calls.stream(gateway, "haiku", "Authorization: Bearer " + USER)));
        try (RawHttp http = RawHttp.postJson(gateway.port(), "/v1/chat/completions/stream",
                Calls.body("haiku", true), "Authorization: Bearer " + USER)) {
            RawHttp.Response ndjson = http.readAll();
            assertEquals(200, ndjson.status, ndjson.body);
            assertTrue(ndjson.body.contains("haiku") || ndjson.body.contains("Write"), ndjson.body);
        }

        // a key whose globs leave the pipe out neither sees nor uses it
        assertFalse(gateway.send(HttpRequest.newBuilder(gateway.uri("/v1/models"))
                .header("Authorization", "Bearer " + ECHO_ONLY).build()).body().contains("haiku"));
        HttpResponse<String> refused = chat("haiku", ECHO_ONLY);
        assertEquals(403, refused.statusCode(), refused.body());
        assertEquals("model_not_allowed", Calls.errorCode(refused));
    }

    @Test
    void theShippedExamplesDoWhatTheReadmeSays() throws Exception {
        writeLive("polite.pipeline.yaml", "polite", shipped("polite.pipeline.yaml"));
        writeLive("haiku.pipeline.yaml", "haiku", shipped("haiku.pipeline.yaml"));
        HttpResponse<String> reply = chat("caravan-echo", USER);
        assertEquals("You said: hello", content(reply));
        assertEquals("polite", reply.headers().firstValue("x-caravan-filter").orElse(null));
        RawHttp.Response stream = Calls.stream(gateway, "caravan-echo", "Authorization: Bearer " + USER);
        assertEquals("You said: hello", streamedContent(stream));
        assertEquals("polite", header(stream, "x-caravan-filter"), stream.headers.toString());
        assertNotNull(logs.find(e -> e.message().startsWith("polite: ")), "the outlet logged");
        // the filter names caravan-echo, not the pipe: a haiku request goes without it
        HttpResponse<String> haiku = chat("haiku", USER);
        assertEquals("You said: Write a haiku about: hello", content(haiku));
        assertTrue(haiku.headers().firstValue("x-caravan-filter").isEmpty());
    }

    @Test
    void pipelinesAddedEditedAndRemovedWhileRequestsFlowFailNone() throws Exception {
        writeLive("route.pipeline.yaml", "route", """
                pipeline:
                  id: route
                  type: pipe
                  steps:
                    - transform: {jq: '.model = "caravan-echo"'}
                    - to: direct:router
                """);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger sent = new AtomicInteger();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        ExecutorService clients = Executors.newFixedThreadPool(3);
        List<Future<?>> loops = new ArrayList<>();
        String[] models = {"caravan-echo", "emu-model", "route"};
        for (int c = 0; c < 3; c++) {
            String model = models[c];
            loops.add(clients.submit(() -> {
                for (int i = 0; i < 400 && running.get(); i++) {
                    sent.incrementAndGet();
                    try {
                        if (i % 2 == 0) {
                            HttpResponse<String> r = chat(model, USER);
                            if (r.statusCode() != 200) {
                                failures.add(model + " " + r.statusCode() + " " + r.body());
                            }
                        } else {
                            RawHttp.Response r = Calls.stream(gateway, model, "Authorization: Bearer " + USER);
                            if (r.status != 200 || !r.body.contains("data: [DONE]")) {
                                failures.add(model + " stream " + r.status + " " + r.body);
                            }
                        }
                    } catch (Exception e) {
                        failures.add(model + " " + e);
                    }
                }
            }));
        }
        try {
            // add over the API, edit the file, refuse a broken edit and a broken add, edit the pipe, delete
            HttpResponse<String> added = gateway.send(HttpRequest.newBuilder(gateway.uri("/pipelines/add"))
                    .header("Authorization", "Bearer " + ADMIN).header("Content-Type", "application/yaml")
                    .POST(HttpRequest.BodyPublishers.ofString(tagger("flow", 1, "[\"*\"]", "f1"))).build());
            assertEquals(201, added.statusCode(), added.body());
            for (int edit = 2; edit <= 4; edit++) {
                writeLive("flow.pipeline.yaml", "flow", tagger("flow", 1, "[\"*\"]", "f" + edit));
            }
            long version = liveVersion("flow");
            write("flow.pipeline.yaml", "pipeline: {id: flow, type: filter, inlet: [{to: nosuchcomponent:x}]}");
            HttpResponse<String> broken = gateway.send(HttpRequest.newBuilder(gateway.uri("/pipelines/add"))
                    .header("Authorization", "Bearer " + ADMIN).header("Content-Type", "application/yaml")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "pipeline: {id: other, type: filter, inlet: [{process: {ref: nope}}]}")).build());
            assertEquals(400, broken.statusCode(), broken.body());
            writeLive("route.pipeline.yaml", "route", """
                    pipeline:
                      id: route
                      type: pipe
                      steps:
                        - transform: {jq: '.model = "emu-model"'}
                        - to: direct:router
                    """);
            assertEquals(version, liveVersion("flow"), "the broken edit left the running version");
            writeLive("flow.pipeline.yaml", "flow", tagger("flow", 1, "[\"*\"]", "f5"));
            HttpResponse<String> deleted = gateway.send(HttpRequest.newBuilder(
                    gateway.uri("/pipelines/delete?id=flow")).header("Authorization", "Bearer " + ADMIN)
                    .DELETE().build());
            assertEquals(200, deleted.statusCode(), deleted.body());
            Await.value("requests on the side", sent::get, n -> n >= 60, Duration.ofSeconds(30));
        } finally {
            running.set(false);
            for (Future<?> loop : loops) {
                loop.get(60, TimeUnit.SECONDS);
            }
            clients.shutdown();
        }
        assertTrue(failures.isEmpty(), failures.size() + " of " + sent.get() + " failed: " + failures.peek());
        assertTrue(sent.get() >= 60, "requests flowed: " + sent.get());
        Await.value("every retired version removed", () -> gateway.camel().getRoutes().stream()
                .filter(r -> r.getRouteId().startsWith("pipeline-flow-")).count(), n -> n == 0,
                Duration.ofSeconds(10));
    }

    @Test
    void aRequestFinishesOnTheVersionItStartedWith() throws Exception {
        writeLive("pin.pipeline.yaml", "pin", tagger("pin", 0, "[\"emu-model\"]", "v1"));
        upstream.firstTokenDelayMs(1500);
        List<CompletableFuture<HttpResponse<String>>> slow = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            slow.add(Calls.chatAsync(gateway, "emu-model", "Authorization", "Bearer " + USER));
        }
        assertTrue(upstream.awaitInFlight(4, Duration.ofSeconds(5)), "four requests at the upstream");
        writeLive("pin.pipeline.yaml", "pin", tagger("pin", 0, "[\"emu-model\"]", "v2"));
        String v1Route = "pipeline-pin-v1-outlet";
        JsonNode draining = null;
        for (JsonNode p : list().path("data")) {
            draining = "draining".equals(p.path("state").asText()) ? p : draining;
        }
        assertNotNull(draining, "the old version drains: " + list());
        assertEquals(4, draining.path("in_flight").asInt(), draining.toString());
        assertNotNull(gateway.camel().getRoute(v1Route), "its routes stay while requests use them");
        upstream.firstTokenDelayMs(0);
        // a request that starts now runs the new version
        assertEquals(UpstreamEmulator.DEFAULT_REPLY + " <v2>", content(chat("emu-model", USER)));
        for (CompletableFuture<HttpResponse<String>> reply : slow) {
            // inlet and outlet of the version the request started with
            assertEquals(UpstreamEmulator.DEFAULT_REPLY + " <v1>", content(reply.get(10, TimeUnit.SECONDS)));
        }
        Await.value("the drained version's routes removed", () -> gateway.camel().getRoute(v1Route),
                r -> r == null, Duration.ofSeconds(10));
    }

    @Test
    void aTaskRunsItsFiltersOnceAndMayNameAPipe() throws Exception {
        writeLive("a.pipeline.yaml", "a", tagger("a", 10, "[\"emu-model\"]", "a"));
        writeLive("to-emu.pipeline.yaml", "to-emu", """
                pipeline:
                  id: to-emu
                  type: pipe
                  steps:
                    - transform: {jq: '.model = "emu-model"'}
                    - to: direct:router
                """);
        for (String model : new String[] {"emu-model", "to-emu"}) {
            HttpResponse<String> queued = gateway.send(HttpRequest.newBuilder(gateway.uri("/tasks/enqueue"))
                    .header("Authorization", "Bearer " + USER).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(Calls.body(model, false))).build());
            assertEquals(202, queued.statusCode(), queued.body());
            String id = Calls.json(queued.body()).path("id").asText();
            JsonNode task = Await.value("task " + id + " done", () -> Calls.json(gateway.send(HttpRequest
                    .newBuilder(gateway.uri("/tasks/" + id)).header("Authorization", "Bearer " + USER).build())
                    .body()), t -> !"queued".equals(t.path("status").asText())
                    && !"running".equals(t.path("status").asText()), Duration.ofSeconds(10));
            assertEquals("done", task.path("status").asText(), task.toString());
            String expected = model.equals("emu-model") ? " <a>" : "";
            assertEquals(UpstreamEmulator.DEFAULT_REPLY + expected,
                    task.at("/result/choices/0/message/content").asText(), model + ": " + task);
            // the filter's inlet ran once: when the task ran, not also when it was enqueued
            String upstreamSaw = upstream.lastRequestBody().getJsonArray("messages").getJsonObject(0)
                    .getString("content");
            assertEquals(model.equals("emu-model") ? "hello [a]" : "hello", upstreamSaw, model);
        }
    }

    @Test
    void anInletMayRejectAndAFailingStepIsAnErrorReply() throws Exception {
        writeLive("guard.pipeline.yaml", "guard", """
                pipeline:
                  id: guard
                  type: filter
                  models: ["caravan-echo"]
                  inlet:
                    - choice:
                        when:
                          - jq: '.messages[-1].content | test("secret")'
                            steps:
                              - to: {uri: "kamelet:reject-action", parameters: {status: 400, code: no_secrets, message: "No secrets here"}}
                    - filter:
                        jq: '.messages[-1].content == "boom"'
                        steps:
                          - transform: {jq: 'error("boom")'}
                """);
        HttpResponse<String> rejected = gateway.send(Calls.chatRequest(gateway,
                Calls.body("caravan-echo", false, "my secret"), "Authorization", "Bearer " + USER).build());
        assertEquals(400, rejected.statusCode(), rejected.body());
        assertEquals("no_secrets", Calls.errorCode(rejected));
        RawHttp.Response rejectedStream = Calls.rawChat(gateway, Calls.body("caravan-echo", true, "my secret"),
                "Authorization: Bearer " + USER);
        assertEquals(400, rejectedStream.status, rejectedStream.body);
        assertTrue(rejectedStream.body.contains("no_secrets"), rejectedStream.body);

        HttpResponse<String> failed = gateway.send(Calls.chatRequest(gateway, Calls.body("caravan-echo", false, "boom"),
                "Authorization", "Bearer " + USER).build());
        // the error route's mapping decides the status (a jq error() shows as a JSON failure today)
        assertTrue(failed.statusCode() >= 400, failed.statusCode() + " " + failed.body());
        assertTrue(Calls.json(failed.body()).has("error"), failed.body());
        assertFalse(failed.body().contains("at dev.caravan"), "no stack trace: " + failed.body());
        assertEquals("You said: hello", content(chat("caravan-echo", USER)));
    }

    @Test
    void aPipeMayAnswerItself() throws Exception {
        writeLive("canned.pipeline.yaml", "canned", """
                pipeline:
                  id: canned
                  type: pipe
                  steps:
                    - transform:
                        jq: >-
                          {"id": "chatcmpl-canned", "object": "chat.completion", "created": 0, "model": "canned",
                           "choices": [{"index": 0, "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": ("Canned: " + .messages[-1].content)}}],
                           "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}
                """);
        assertEquals("Canned: hello", content(chat("canned", USER)));
        // what the README says: a pipe that answers itself answers JSON, even to a request that asked for a stream
        RawHttp.Response stream = Calls.stream(gateway, "canned", "Authorization: Bearer " + USER);
        assertEquals(200, stream.status, stream.body);
        assertEquals("Canned: hello", Calls.json(stream.body).at("/choices/0/message/content").asText());
    }

    @Test
    void outletsRunOnceOnAFailureWithTheErrorOnTheExchange() throws Exception {
        writeLive("audit.pipeline.yaml", "audit", """
                pipeline:
                  id: audit
                  type: filter
                  models: ["emu-model"]
                  outlet:
                    - log: {message: "audit ${exchangeProperty.CaravanRequestId} error=${exchangeProperty.CaravanError.code}", logName: dev.caravan.pipelines.test}
                """);
        upstream.failNext(3, 500);
        HttpResponse<String> failed = chat("emu-model", USER);
        assertEquals(502, failed.statusCode(), failed.body());
        String requestId = failed.headers().firstValue("x-request-id").orElseThrow();
        List<String> audits = Await.value("the outlet's line", () -> logs.lines().stream()
                .filter(l -> l.contains("audit " + requestId)).toList(), l -> !l.isEmpty(), Duration.ofSeconds(5));
        assertEquals(1, audits.size(), audits.toString());
        assertTrue(audits.get(0).endsWith("error=upstream_error"), audits.toString());
    }

    @Test
    void outletsRunForTheFiltersTheRequestReachedOnly() throws Exception {
        writeLive("first.pipeline.yaml", "first", tagger("first", 1, "[\"caravan-echo\"]", "first"));
        writeLive("gate.pipeline.yaml", "gate", """
                pipeline:
                  id: gate
                  type: filter
                  models: ["caravan-echo"]
                  priority: 2
                  inlet:
                    - to: {uri: "kamelet:reject-action", parameters: {status: 403, code: closed, message: "Closed"}}
                  outlet:
                    - log: {message: "outlet gate ${exchangeProperty.CaravanRequestId}", logName: dev.caravan.pipelines.test}
                """);
        writeLive("last.pipeline.yaml", "last", tagger("last", 3, "[\"caravan-echo\"]", "last"));
        HttpResponse<String> refused = chat("caravan-echo", USER);
        assertEquals(403, refused.statusCode(), refused.body());
        String id = refused.headers().firstValue("x-request-id").orElseThrow();
        List<String> ran = Await.value("the outlets", () -> outlets().stream().filter(l -> l.endsWith(id)).toList(),
                l -> l.size() >= 2, Duration.ofSeconds(5));
        assertEquals(List.of("outlet gate " + id, "outlet first " + id), ran,
                "the filter that rejected and the one before it, unwinding; not the one it kept the request from");
    }
}
