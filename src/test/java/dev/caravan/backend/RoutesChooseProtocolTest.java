package dev.caravan.backend;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.RawHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static dev.caravan.support.Calls.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The routes choose the protocol (issue 7 item 2): the lane template, edited as an operator would, sends the lane of
 * backend "odd" (type openai in gateway.yaml) to the backend-ollama route, and the upstream is spoken to in
 * Ollama's native API; the lane of backend "plain", of the same type, keeps the OpenAI protocol.
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
    static void start(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path routes = Files.createDirectories(tmp.resolve("routes"));
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".camel.yaml"))::iterator) {
                String text = Files.readString(file);
                if (file.getFileName().toString().equals("50-lanes.camel.yaml")) {
                    assertTrue(text.contains(CALL), "the lane template calls direct:backend-{{type}}");
                    text = text.replace(CALL, CHOICE);
                }
                Files.writeString(routes.resolve(file.getFileName().toString()), text);
            }
        }
        upstream = UpstreamEmulator.start();
        gateway = GatewayInstance.builder().config("""
                backends:
                  plain: {type: openai, url: "%s"}
                  odd: {type: openai, url: "%s"}
                models:
                  p: {backend: plain}
                  o: {backend: odd}
                """.formatted(upstream.baseUrl(), upstream.extraBaseUrl()))
                .property("camel.main.routes-include-pattern", "file:" + routes + "/*.camel.yaml")
                .start();
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
}
