package dev.caravan.pipelines;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.support.Await;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.LogCapture;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pipelines admin API (issue 7 item 6): GET /pipelines, POST /pipelines/add (YAML body, JSON {"yaml"} or
 * {"url"}), DELETE /pipelines/delete, POST /pipelines/reload; the admin key guards them as it guards the DLQ; an
 * invalid pipeline is a 400 with its reason and changes nothing; a file dropped into the folder is picked up, a
 * broken one is a WARN.
 */
class PipelineAdminTest {

    static final String ADMIN = "sk-admin-pipelines";
    static final String USER = "sk-user-pipelines";
    static final String CONFIG = """
            backends:
              local: {type: local}
            models:
              caravan-echo: {backend: local}
            keys:
              - key: %s
                name: user
                models: ["*"]
            """.formatted(USER);

    static Path folder;
    static GatewayInstance gateway;

    @RegisterExtension
    final LogCapture logs = LogCapture.perTest();

    @BeforeAll
    static void start() throws Exception {
        folder = Files.createTempDirectory("caravan-pipelines");
        gateway = GatewayInstance.builder().config(CONFIG)
                .property("gateway.admin-api-key", ADMIN)
                .property("gateway.pipelines-dir", folder.toString())
                // the test's file server is on loopback, which is refused unless listed
                .property("gateway.pipelines-allowed-hosts", "127.0.0.1")
                .property("gateway.pipelines-max-bytes", "4096")
                .start();
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    static String filter(String id, int priority, String models) {
        return """
                pipeline:
                  id: %s
                  type: filter
                  models: %s
                  priority: %d
                  inlet:
                    - log: {message: "inlet %s", loggingLevel: DEBUG}
                """.formatted(id, models, priority, id);
    }

    static HttpResponse<String> admin(String method, String path, String contentType, String body, String key) {
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri(path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return gateway.send(request.build());
    }

    static HttpResponse<String> add(String yaml) {
        return admin("POST", "/pipelines/add", "application/yaml", yaml, ADMIN);
    }

    static JsonNode list() {
        HttpResponse<String> r = admin("GET", "/pipelines", null, null, ADMIN);
        assertEquals(200, r.statusCode(), r.body());
        return Calls.json(r.body());
    }

    static JsonNode entry(String id) {
        for (JsonNode p : list().path("data")) {
            if (id.equals(p.path("id").asText()) && "running".equals(p.path("state").asText())) {
                return p;
            }
        }
        return null;
    }

    @Test
    void theAdminKeyGuardsEveryEndpoint() {
        for (String[] call : new String[][] {{"GET", "/pipelines"}, {"POST", "/pipelines/add"},
                {"DELETE", "/pipelines/delete?id=x"}, {"POST", "/pipelines/reload"}}) {
            String body = call[0].equals("POST") ? "{}" : null;
            String type = body == null ? null : "application/json";
            assertEquals(401, admin(call[0], call[1], type, body, null).statusCode(), call[1]);
            assertEquals(401, admin(call[0], call[1], type, body, "sk-nobody").statusCode(), call[1]);
            HttpResponse<String> user = admin(call[0], call[1], type, body, USER);
            assertEquals(403, user.statusCode(), call[1] + ": " + user.body());
            assertTrue(user.body().contains("admin_key_required"), user.body());
        }
    }

    @Test
    void addListAndDelete() throws Exception {
        HttpResponse<String> added = add(filter("tagger", 5, "[\"caravan-echo\"]"));
        assertEquals(201, added.statusCode(), added.body());
        JsonNode view = Calls.json(added.body());
        assertEquals("tagger", view.path("id").asText());
        assertEquals("filter", view.path("type").asText());
        assertEquals(5, view.path("priority").asInt());
        assertEquals("caravan-echo", view.at("/models/0").asText());
        assertEquals("running", view.path("state").asText());
        Path file = folder.resolve("tagger.pipeline.yaml");
        assertEquals(file.toString(), view.path("source").asText());
        assertTrue(Files.exists(file), "added pipelines are written to the folder");
        String route = view.at("/routes/0").asText();
        assertTrue(route.matches("pipeline-tagger-v\\d+-inlet"), route);
        assertNotNull(gateway.camel().getRoute(route), "the inlet is a Camel route");
        javax.management.ObjectName inJmx = new javax.management.ObjectName(
                "org.apache.camel:type=routes,name=\"" + route + "\",*");
        assertEquals(1, java.lang.management.ManagementFactory.getPlatformMBeanServer().queryNames(inJmx, null)
                .size(), "the inlet shows in JMX like any route");

        JsonNode listed = entry("tagger");
        assertNotNull(listed, list().toString());
        assertEquals(file.toString(), listed.path("source").asText());

        // the same id again: refused, the running one stays
        HttpResponse<String> again = add(filter("tagger", 1, "[\"*\"]"));
        assertEquals(400, again.statusCode(), again.body());
        assertTrue(again.body().contains("invalid_pipeline") && again.body().contains("tagger"), again.body());
        assertEquals(5, entry("tagger").path("priority").asInt());

        HttpResponse<String> deleted = admin("DELETE", "/pipelines/delete?id=tagger", null, null, ADMIN);
        assertEquals(200, deleted.statusCode(), deleted.body());
        assertTrue(deleted.body().contains("\"deleted\":true"), deleted.body());
        assertTrue(!Files.exists(file), "its file is deleted");
        assertNull(entry("tagger"));
        Await.value("the retired routes removed", () -> gateway.camel().getRoute(route), r -> r == null,
                Duration.ofSeconds(10));
        assertEquals(404, admin("DELETE", "/pipelines/delete", "application/json", "{\"id\":\"tagger\"}", ADMIN)
                .statusCode());
    }

    @Test
    void invalidPipelinesAreRefusedWithTheReason() {
        String[][] cases = {
                {"not yaml", "pipeline: [unclosed", "not valid YAML"},
                {"no pipeline key", "route: {}", "one mapping"},
                {"bad id", "pipeline: {id: Bad Id, type: filter, inlet: [{log: x}]}", "id 'Bad Id'"},
                {"bad type", "pipeline: {id: t1, type: magic, inlet: [{log: x}]}", "neither filter nor pipe"},
                {"unknown key", "pipeline: {id: t2, type: filter, inlet: [{log: x}], colour: red}", "colour"},
                {"no steps", "pipeline: {id: t3, type: filter}", "inlet steps, outlet steps or both"},
                {"pipe without steps", "pipeline: {id: t4, type: pipe}", "'steps' is missing"},
                {"missing bean", "pipeline: {id: t5, type: filter, inlet: [{process: {ref: noSuchBean}}]}",
                        "noSuchBean"},
                {"unknown component", "pipeline: {id: t6, type: pipe, steps: [{to: nosuchcomponent:x}]}",
                        "nosuchcomponent"},
                {"pipe named as a model", "pipeline: {id: caravan-echo, type: pipe, steps: [{log: x}]}",
                        "model of gateway.yaml"},
        };
        int routesBefore = gateway.camel().getRoutes().size();
        for (String[] c : cases) {
            HttpResponse<String> r = add(c[1]);
            assertEquals(400, r.statusCode(), c[0] + ": " + r.body());
            JsonNode error = Calls.json(r.body()).path("error");
            assertEquals("invalid_pipeline", error.path("code").asText(), c[0] + ": " + r.body());
            assertTrue(error.path("message").asText().contains(c[2]), c[0] + ": " + r.body());
        }
        assertEquals(routesBefore, gateway.camel().getRoutes().size(), "no route of a refused pipeline stays");
        assertEquals(200, Calls.chat(gateway, "caravan-echo", "Authorization", "Bearer " + USER).statusCode());
    }

    @Test
    void aDroppedInFileIsPickedUpAndABrokenOneIsAWarn() throws Exception {
        Path file = folder.resolve("dropped.pipeline.yaml");
        Files.writeString(file, filter("dropped", 0, "[\"*\"]"));
        Await.value("the dropped-in pipeline live", () -> entry("dropped"), e -> e != null, Duration.ofSeconds(10));
        long version = entry("dropped").path("version").asLong();

        Files.writeString(file, "pipeline: {id: dropped, type: filter, inlet: [{process: {ref: noSuchBean}}]}");
        Await.value("a WARN for the broken edit", () -> logs.find(e -> e.level() == Level.WARN
                && e.message().contains(file.toString()) && e.message().contains("noSuchBean")), w -> w != null,
                Duration.ofSeconds(10));
        assertEquals(version, entry("dropped").path("version").asLong(), "the running version stays");
        boolean refusedListed = false;
        for (JsonNode p : list().path("data")) {
            refusedListed |= "refused".equals(p.path("state").asText()) && file.toString().equals(p.path("source")
                    .asText()) && p.path("error").asText().contains("noSuchBean");
        }
        assertTrue(refusedListed, list().toString());
        JsonNode health = Calls.json(gateway.get("/health").body());
        assertEquals("degraded", health.path("status").asText(), health.toString());
        assertEquals(file.toString(), health.at("/routes/reload_failures/0/file").asText(), health.toString());

        Files.writeString(file, filter("dropped", 3, "[\"*\"]"));
        Await.value("the fixed edit live", () -> entry("dropped"), e -> e != null && e.path("priority").asInt() == 3,
                Duration.ofSeconds(10));
        assertEquals("ok", Calls.json(gateway.get("/health").body()).path("status").asText());
        Files.delete(file);
        Await.value("the deleted file's pipeline gone", () -> entry("dropped"), e -> e == null,
                Duration.ofSeconds(10));
    }

    @Test
    void addByJsonAndReload() {
        HttpResponse<String> added = admin("POST", "/pipelines/add", "application/json",
                "{\"yaml\":" + dev.caravan.openai.Json.string(com.fasterxml.jackson.databind.node.TextNode.valueOf(
                        filter("by-json", 2, "[\"x*\"]"))) + "}", ADMIN);
        assertEquals(201, added.statusCode(), added.body());
        long version = entry("by-json").path("version").asLong();
        HttpResponse<String> reload = admin("POST", "/pipelines/reload", "application/json", "{}", ADMIN);
        assertEquals(200, reload.statusCode(), reload.body());
        assertTrue(entry("by-json").path("version").asLong() > version, "reload builds every file again");
        assertEquals(200, admin("DELETE", "/pipelines/delete?id=by-json", null, null, ADMIN).statusCode());
    }

    @Test
    void addByUrlFetchesTheYamlWithinItsLimits() throws Exception {
        com.sun.net.httpserver.HttpServer files = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        files.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            byte[] body = switch (path) {
                case "/fetched.yaml" -> filter("fetched", 4, "[\"*\"]").getBytes();
                case "/huge.yaml" -> ("# " + "x".repeat(10_000) + "\n" + filter("huge", 0, "[\"*\"]")).getBytes();
                default -> null;
            };
            exchange.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
            if (body != null) {
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        files.start();
        String base = "http://127.0.0.1:" + files.getAddress().getPort();
        try {
            HttpResponse<String> added = admin("POST", "/pipelines/add", "application/json",
                    "{\"url\":\"" + base + "/fetched.yaml\"}", ADMIN);
            assertEquals(201, added.statusCode(), added.body());
            assertEquals(4, entry("fetched").path("priority").asInt());
            assertTrue(Files.exists(folder.resolve("fetched.pipeline.yaml")));

            String[][] refusals = {
                    {base + "/missing.yaml", "answered 404"},
                    {base + "/huge.yaml", "over 4096 bytes"},
                    {"http://10.1.2.3/p.yaml", "refused"},
                    {"file:///etc/passwd", "http or https"},
            };
            for (String[] r : refusals) {
                HttpResponse<String> refused = admin("POST", "/pipelines/add", "application/json",
                        "{\"url\":\"" + r[0] + "\"}", ADMIN);
                assertEquals(400, refused.statusCode(), r[0] + ": " + refused.body());
                assertTrue(refused.body().contains(r[1]), r[0] + ": " + refused.body());
            }
            assertNull(entry("huge"));
        } finally {
            files.stop(0);
            admin("DELETE", "/pipelines/delete?id=fetched", null, null, ADMIN);
        }
    }

    @Test
    void withKeysButNoAdminKeyAddingTakesTheAdminKeyItself() throws Exception {
        try (GatewayInstance keysOnly = GatewayInstance.builder().config(CONFIG).start()) {
            HttpResponse<String> listed = keysOnly.send(HttpRequest.newBuilder(keysOnly.uri("/pipelines"))
                    .header("Authorization", "Bearer " + USER).build());
            assertEquals(200, listed.statusCode(), "any key lists, as for the DLQ: " + listed.body());
            HttpResponse<String> add = keysOnly.send(HttpRequest.newBuilder(keysOnly.uri("/pipelines/add"))
                    .header("Authorization", "Bearer " + USER).header("Content-Type", "application/yaml")
                    .POST(HttpRequest.BodyPublishers.ofString(filter("nope", 0, "[\"*\"]"))).build());
            assertEquals(403, add.statusCode(), add.body());
            assertTrue(add.body().contains("admin_key_required") && add.body().contains("ADMIN_API_KEY"), add.body());
        }
    }

    @Test
    void camelsOwnRouteWatcherLeavesThePipelinesFolderAlone() throws Exception {
        Path routes = Files.createTempDirectory("caravan-routes");
        try (var files = Files.list(Path.of("routes"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".camel.yaml")).toList()) {
                Files.copy(file, routes.resolve(file.getFileName()));
            }
        }
        Path pipelines = Files.createDirectories(routes.resolve("pipelines"));
        try (GatewayInstance watching = GatewayInstance.builder().config(CONFIG).watchingRoutes(routes)
                .property("gateway.pipelines-dir", pipelines.toString()).start()) {
            Files.writeString(pipelines.resolve("watched.pipeline.yaml"), filter("watched", 0, "[\"*\"]"));
            Await.value("the pipeline live", () -> watching.camel().getRoutes().stream()
                    .anyMatch(r -> r.getRouteId().startsWith("pipeline-watched-v")), live -> live,
                    Duration.ofSeconds(10));
            Files.writeString(pipelines.resolve("watched.pipeline.yaml"), filter("watched", 1, "[\"*\"]"));
            Await.value("the edit live", () -> watching.camel().getRoutes().stream()
                    .anyMatch(r -> r.getRouteId().startsWith("pipeline-watched-v2")), live -> live,
                    Duration.ofSeconds(10));
            // had Camel's route reload taken the file for routes, it would have refused it (no route in it)
            assertNull(logs.find(e -> e.level() == Level.WARN && e.message().contains("watched.pipeline.yaml")),
                    "no WARN about the pipeline file");
            assertEquals("ok", Calls.json(watching.get("/health").body()).path("status").asText());
            assertEquals(200, Calls.chat(watching, "caravan-echo", "Authorization", "Bearer " + USER).statusCode());
        }
    }

    @Test
    void withAuthOffTheAdminApiTakesJson() throws Exception {
        Path own = Files.createTempDirectory("caravan-pipelines-open");
        try (GatewayInstance open = GatewayInstance.builder()
                .property("gateway.pipelines-dir", own.toString()).start()) {
            String yaml = filter("open", 0, "[\"*\"]");
            HttpResponse<String> asYaml = open.send(HttpRequest.newBuilder(open.uri("/pipelines/add"))
                    .header("Content-Type", "application/yaml").POST(HttpRequest.BodyPublishers.ofString(yaml))
                    .build());
            assertEquals(415, asYaml.statusCode(), "the edge takes only JSON posts with auth off: " + asYaml.body());
            HttpResponse<String> asJson = open.postJson("/pipelines/add", "{\"yaml\":" + dev.caravan.openai.Json
                    .string(com.fasterxml.jackson.databind.node.TextNode.valueOf(yaml)) + "}");
            assertEquals(201, asJson.statusCode(), asJson.body());
            assertTrue(Files.exists(own.resolve("open.pipeline.yaml")));
        }
    }
}
