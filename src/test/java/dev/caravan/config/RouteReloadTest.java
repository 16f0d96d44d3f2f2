package dev.caravan.config;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.openai.Json;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.LogCapture;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import static dev.caravan.config.HotReloadTest.awaitValue;
import static dev.caravan.config.HotReloadTest.chat;
import static dev.caravan.config.HotReloadTest.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Route reload is all or nothing (issue 6 item 1): an edit of a routes/ file that parses but cannot be built is
 * refused with one WARN naming the file and the reason, the routes that ran before keep answering 200 throughout,
 * /health says "degraded" with the file until a good edit of it loads, and /metrics counts the refusals.
 */
class RouteReloadTest {

    private static final String MARKER = "\"name\":\"caravan\"";

    /** The four ways a file parses but does not build, each a step put first in the api-status route (GET /). */
    private static final List<String[]> BREAKAGES = List.of(
            new String[] {"a missing bean", "- process: {ref: noSuchBean}", "noSuchBean"},
            new String[] {"an unclosed ${", "- setHeader: {name: X-Broken, simple: \"${header.foo\"}", "${header.foo"},
            new String[] {"an unknown component", "- to: nosuchcomponent:foo", "nosuchcomponent"},
            new String[] {"an unknown language",
                    "- setHeader: {name: X-Broken, expression: {language: {language: nosuchlanguage, expression: x}}}",
                    "nosuchlanguage"});

    @TempDir
    Path tmp;
    @RegisterExtension
    final LogCapture logs = LogCapture.perTest();

    @Test
    void brokenEditsAreRefusedWhileTheRunningRoutesKeepServing() throws Exception {
        Path routes = copyRoutes();
        Path api = routes.resolve("10-api.camel.yaml");
        String original = Files.readString(api);
        try (GatewayInstance gateway = GatewayInstance.builder().watchingRoutes(routes).start()) {
            assertEquals(200, get(gateway, "/").statusCode());
            assertEquals("ok", health(gateway).path("status").asText());

            int refused = 0;
            for (String[] breakage : BREAKAGES) {
                String what = breakage[0];
                String broken = original.replace(MARKER, "\"name\":\"caravan-broken\"")
                        .replace("        - to: direct:status\n", "        " + breakage[1] + "\n        - to: direct:status\n");
                assertFalse(broken.equals(original), what);
                int warnsBefore = warnings(api);
                writeAtomically(api, broken);
                // every request answers 200 from the running routes until the refusal is logged, and after it
                List<HttpResponse<String>> seen = new ArrayList<>();
                awaitValue("a WARN refusing " + what, () -> {
                    seen.add(get(gateway, "/"));
                    seen.add(chat(gateway, "caravan-echo"));
                    return warnings(api);
                }, n -> n > warnsBefore, Duration.ofSeconds(20));
                for (int i = 0; i < 20; i++) {
                    seen.add(get(gateway, "/"));
                }
                for (HttpResponse<String> r : seen) {
                    assertEquals(200, r.statusCode(), what + ": " + r.body());
                    assertFalse(r.body().contains("caravan-broken"), what + ": the broken edit took effect: " + r.body());
                }
                refused++;
                String warn = logs.find(e -> e.level() == Level.WARN && e.message().contains(api.toString())
                        && e.message().contains(breakage[2]));
                assertTrue(warn != null, what + ": the WARN names the file and the reason; logged: "
                        + logs.find(e -> e.level() == Level.WARN && e.message().contains(api.toString())));
                assertEquals(warnsBefore + 1, warnings(api), what + ": one WARN per refused edit");

                JsonNode health = health(gateway);
                assertEquals("degraded", health.path("status").asText(), what + ": " + health);
                JsonNode failure = health.at("/routes/reload_failures/0");
                assertEquals(api.toString(), failure.path("file").asText(), what + ": " + health);
                assertTrue(failure.path("reason").asText().contains(breakage[2]), what + ": " + health);
                assertEquals(refused, reloadFailuresMetric(gateway), what);
            }

            // a good edit of the file applies and clears the failure
            writeAtomically(api, original.replace(MARKER, "\"name\":\"caravan-fixed\""));
            awaitValue("the fixed edit answers", () -> get(gateway, "/"),
                    r -> r.statusCode() == 200 && r.body().contains("caravan-fixed"), Duration.ofSeconds(20));
            awaitValue("/health ok again", () -> health(gateway).path("status").asText(), "ok"::equals,
                    Duration.ofSeconds(10));
            assertEquals(200, chat(gateway, "caravan-echo").statusCode());
        }
    }

    @Test
    void anEditThatBuildsButDoesNotStartGetsTheRunningVersionBack() throws Exception {
        Path routes = copyRoutes();
        Path api = routes.resolve("10-api.camel.yaml");
        String original = Files.readString(api);
        try (GatewayInstance gateway = GatewayInstance.builder().watchingRoutes(routes).start()) {
            // a second consumer of direct:pre-hooks (20-pre-hooks has the first) fails when it starts, not when built
            String unstartable = original.replace(MARKER, "\"name\":\"caravan-broken\"") + """
                    - route:
                        id: cannot-start
                        from:
                          uri: direct:pre-hooks
                          steps:
                            - log: never
                    """;
            int warnsBefore = warnings(api);
            writeAtomically(api, unstartable);
            awaitValue("a WARN refusing the edit that does not start", () -> warnings(api), n -> n > warnsBefore,
                    Duration.ofSeconds(20));
            String warn = logs.find(e -> e.level() == Level.WARN && e.message().contains(api.toString()));
            assertTrue(warn.contains("restored"), warn);
            awaitValue("the running version answers again", () -> get(gateway, "/"),
                    r -> r.statusCode() == 200 && r.body().contains(MARKER), Duration.ofSeconds(10));
            assertEquals(200, chat(gateway, "caravan-echo").statusCode());
            assertEquals("degraded", health(gateway).path("status").asText());
            assertEquals(null, gateway.camel().getRoute("cannot-start"), "the route that failed is not left behind");
        }
    }

    private int warnings(Path file) {
        return logs.count(e -> e.level() == Level.WARN && e.message().contains(file.toString()));
    }

    static JsonNode health(GatewayInstance gateway) {
        try {
            return Json.MAPPER.readTree(get(gateway, "/health").body());
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static long reloadFailuresMetric(GatewayInstance gateway) {
        for (String line : get(gateway, "/metrics").body().split("\n")) {
            if (line.startsWith("caravan_route_reload_failures_total ")) {
                return (long) Double.parseDouble(line.substring(line.indexOf(' ') + 1).trim());
            }
        }
        return -1;
    }

    private Path copyRoutes() throws java.io.IOException {
        Path routes = Files.createDirectories(tmp.resolve("routes"));
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".camel.yaml"))::iterator) {
                Files.copy(file, routes.resolve(file.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return routes;
    }

    /** The new content in one step, as editors that save through a temporary file do: no half-written file is seen. */
    static void writeAtomically(Path file, String content) throws java.io.IOException {
        Path next = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.writeString(next, content);
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
