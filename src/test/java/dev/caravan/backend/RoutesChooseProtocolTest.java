package dev.caravan.backend;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.Await;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.RawHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static dev.caravan.support.Calls.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The routes choose the protocol (issue 7 item 2): the lane template, edited as an operator would, sends the lane of
 * backend "odd" (type openai in gateway.yaml) to the backend-ollama route, and the upstream is spoken to in
 * Ollama's native API; the lane of backend "plain", of the same type, keeps the OpenAI protocol. And the same
 * switch made live, by an edit of the backend-openai route in a running gateway.
 */
class RoutesChooseProtocolTest {

    private static final String CALL = "                - to: {id: \"call-{{backend}}\", uri: \"direct:backend-{{type}}\"}\n";
    private static final String CHOICE = """
                            - choice:
                                id: "protocol-{{backend}}"
                                when:
                                  - simple: "'{{backend}}' == 'odd'"
                                    steps:
                                      - to: {id: "call-{{backend}}", uri: "direct:backend-ollama"}
                                otherwise:
                                  steps:
                                    - to: {id: "call-other-{{backend}}", uri: "direct:backend-{{type}}"}
            """;

    static UpstreamEmulator upstream;
    static GatewayInstance gateway;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        Path routes = copyRoutes(tmp);
        Path lanes = routes.resolve("50-lanes.camel.yaml");
        String template = Files.readString(lanes);
        assertTrue(template.contains(CALL), "the lane template calls direct:backend-{{type}}");
        Files.writeString(lanes, template.replace(CALL, CHOICE));
        upstream = UpstreamEmulator.start();
        gateway = GatewayInstance.builder().config(config())
                .property("camel.main.routes-include-pattern", "file:" + routes + "/*.camel.yaml")
                .start();
    }

    private static String config() {
        return """
                backends:
                  plain: {type: openai, url: "%s"}
                  odd: {type: openai, url: "%s"}
                models:
                  p: {backend: plain}
                  o: {backend: odd}
                """.formatted(upstream.baseUrl(), upstream.extraBaseUrl());
    }

    private static Path copyRoutes(Path tmp) throws Exception {
        Path routes = Files.createDirectories(tmp.resolve("routes"));
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".camel.yaml"))::iterator) {
                Files.copy(file, routes.resolve(file.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return routes;
    }

    @AfterAll
    static void stop() {
        try {
            gateway.close();
        } finally {
            upstream.close();
        }
    }

    @BeforeEach
    void reset() {
        upstream.reset();
    }

    @Test
    void aLanePointedAtTheOllamaRouteSpeaksOllamaToAnOpenAiTypedBackend() {
        HttpResponse<String> response = Calls.chat(gateway, "o");
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("/api/chat", upstream.lastRequestPath(), "the Ollama adapter made the call");
        assertEquals(Boolean.FALSE, upstream.lastRequestBody().getBoolean("stream"), upstream.lastRequestBodyText());
        assertEquals("chat.completion", json(response.body()).path("object").asText());
        assertEquals(UpstreamEmulator.DEFAULT_REPLY, json(response.body()).at("/choices/0/message/content").asText());
        assertEquals("o", json(response.body()).path("model").asText());

        HttpResponse<String> plain = Calls.chat(gateway, "p");
        assertEquals(200, plain.statusCode(), plain.body());
        assertEquals("/v1/chat/completions", upstream.lastRequestPath(), "the other lane kept the OpenAI protocol");
    }

    @Test
    void aStreamTakesTheRouteItsLaneNames() throws Exception {
        RawHttp.Response response = Calls.stream(gateway, "o");
        assertEquals(200, response.status);
        List<String> events = response.events();
        assertEquals("[DONE]", events.get(events.size() - 1), response.body);
        assertEquals("/api/chat", upstream.lastRequestPath());
        assertTrue(response.body.contains("\"role\":\"assistant\""), response.body);

        RawHttp.Response plain = Calls.stream(gateway, "p");
        assertEquals(200, plain.status);
        assertEquals("/v1/chat/completions", upstream.lastRequestPath());
    }

    private static final String OPENAI_STEP = "        - process: {id: openai-call, ref: openaiCall}\n";
    private static final String OPENAI_CHOICE = """
                    - choice:
                        id: openai-protocol
                        when:
                          - simple: "${exchangeProperty.CaravanBackend} == 'odd'"
                            steps:
                              - process: {id: openai-call-as-ollama, ref: ollamaCall}
                        otherwise:
                          steps:
                            - process: {id: openai-call, ref: openaiCall}
            """;

    @Test
    void anEditOfABackendRouteSwitchesTheProtocolWithoutARestart(@TempDir Path tmp) throws Exception {
        Path routes = copyRoutes(tmp);
        Path backends = routes.resolve("60-backends.camel.yaml");
        String original = Files.readString(backends);
        assertTrue(original.contains(OPENAI_STEP), "backend-openai names openaiCall");
        String edited = original.replace(OPENAI_STEP, OPENAI_CHOICE);
        try (GatewayInstance live = GatewayInstance.builder().config(config()).watchingRoutes(routes).start()) {
            assertEquals(200, Calls.chat(live, "o").statusCode());
            assertEquals("/v1/chat/completions", upstream.lastRequestPath(), "before the edit");

            long[] nextWrite = {0};
            Await.value("backend odd called through Ollama's API", () -> {
                if (System.nanoTime() - nextWrite[0] >= 0) { // a watcher may miss one write: write again now and then
                    write(backends, edited);
                    nextWrite[0] = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                }
                HttpResponse<String> reply = Calls.chat(live, "o");
                return reply.statusCode() + " " + upstream.lastRequestPath();
            }, seen -> seen.equals("200 /api/chat"), Duration.ofSeconds(30));

            assertEquals(200, Calls.chat(live, "p").statusCode());
            assertEquals("/v1/chat/completions", upstream.lastRequestPath(), "the other openai backend is untouched");
        }
    }

    private static void write(Path file, String content) {
        try {
            Path next = file.resolveSibling("." + file.getFileName() + ".tmp");
            Files.writeString(next, content);
            Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
