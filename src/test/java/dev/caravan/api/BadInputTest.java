package dev.caravan.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.openai.Json;
import dev.caravan.support.GatewayInstance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A corpus of bad requests against the embedded default. Each gets its exact status and OpenAI's error object
 * ({"error":{"message","type","param","code"}}, all four keys present), as JSON, with no stack trace, and no
 * request hangs (10 s timeouts). Afterwards the gateway still answers a normal request.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BadInputTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final String CHAT = "/v1/chat/completions";
    private static final String USER = "[{\"role\":\"user\",\"content\":\"hi\"}]";
    /** Set absent: the case does not pin param; JSON null is written as the string "null". */
    private static final String ANY = "\u0000any";

    /** A client value far longer than any error message may echo; its tail must never come back. */
    static final String LONG_VALUE = "x".repeat(60) + "TAIL-NEVER-ECHOED" + "y".repeat(200);

    static GatewayInstance gateway;
    static final AtomicInteger answered = new AtomicInteger();

    @BeforeAll
    static void start() {
        gateway = GatewayInstance.startDefault();
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    /** name, method, path, content-type (null: none), body (null: none), status, param (ANY: not pinned), code. */
    static Stream<Arguments> corpus() {
        String json = "application/json";
        return Stream.of(
                Arguments.of("malformed JSON", "POST", CHAT, json, "{\"model\":", 400, ANY, null),
                Arguments.of("body is an array", "POST", CHAT, json, "[{\"model\":\"caravan-echo\"}]", 400, ANY, null),
                Arguments.of("missing model", "POST", CHAT, json, "{\"messages\":" + USER + "}", 400, "model", null),
                Arguments.of("model not a string", "POST", CHAT, json, "{\"model\":123,\"messages\":" + USER + "}",
                        400, "model", null),
                Arguments.of("missing messages", "POST", CHAT, json, "{\"model\":\"caravan-echo\"}", 400, "messages", null),
                Arguments.of("messages a string", "POST", CHAT, json,
                        "{\"model\":\"caravan-echo\",\"messages\":\"hi\"}", 400, "messages", null),
                Arguments.of("empty messages", "POST", CHAT, json,
                        "{\"model\":\"caravan-echo\",\"messages\":[]}", 400, "messages", null),
                Arguments.of("message without role", "POST", CHAT, json,
                        "{\"model\":\"caravan-echo\",\"messages\":[{\"content\":\"hi\"}]}", 400, ANY, null),
                Arguments.of("role robot", "POST", CHAT, json,
                        "{\"model\":\"caravan-echo\",\"messages\":[{\"role\":\"robot\",\"content\":\"hi\"}]}", 400, ANY, null),
                Arguments.of("content a number", "POST", CHAT, json,
                        "{\"model\":\"caravan-echo\",\"messages\":[{\"role\":\"user\",\"content\":42}]}", 400, ANY, null),
                Arguments.of("max_tokens a string", "POST", CHAT, json,
                        "{\"model\":\"caravan-echo\",\"messages\":" + USER + ",\"max_tokens\":\"ten\"}", 400, "max_tokens", null),
                Arguments.of("max_tokens 0", "POST", CHAT, json,
                        "{\"model\":\"caravan-echo\",\"messages\":" + USER + ",\"max_tokens\":0}", 400, "max_tokens", null),
                Arguments.of("temperature 5", "POST", CHAT, json,
                        "{\"model\":\"caravan-echo\",\"messages\":" + USER + ",\"temperature\":5}", 400, "temperature", null),
                Arguments.of("stream a string", "POST", CHAT, json,
                        "{\"model\":\"caravan-echo\",\"messages\":" + USER + ",\"stream\":\"yes\"}", 400, "stream", null),
                Arguments.of("unknown model", "POST", CHAT, json,
                        "{\"model\":\"no-such-model\",\"messages\":" + USER + "}", 404, "model", "model_not_found"),
                Arguments.of("unknown model, streamed", "POST", CHAT, json,
                        "{\"model\":\"no-such-model\",\"stream\":true,\"messages\":" + USER + "}", 404, "model",
                        "model_not_found"),
                Arguments.of("GET on chat completions", "GET", CHAT, null, null, 405, ANY, null),
                Arguments.of("DELETE on models", "DELETE", "/v1/models", null, null, 405, ANY, null),
                Arguments.of("unknown path", "POST", "/v1/nope", json, "{}", 404, ANY, null),
                Arguments.of("unknown path, GET", "GET", "/v1/nope", null, null, 404, ANY, null),
                Arguments.of("text/plain", "POST", CHAT, "text/plain",
                        "{\"model\":\"caravan-echo\",\"messages\":" + USER + "}", 415, ANY, null),
                Arguments.of("form content type", "POST", CHAT, "application/x-www-form-urlencoded",
                        "model=caravan-echo&messages=hi", 415, ANY, null),
                Arguments.of("empty body", "POST", CHAT, json, "", 400, ANY, null),
                Arguments.of("embeddings without input", "POST", "/v1/embeddings", json,
                        "{\"model\":\"all-minilm-l6-v2\"}", 400, "input", null),
                Arguments.of("embeddings encoding_format hex", "POST", "/v1/embeddings", json,
                        "{\"model\":\"all-minilm-l6-v2\",\"input\":\"hi\",\"encoding_format\":\"hex\"}", 400,
                        "encoding_format", null),
                Arguments.of("completions without prompt", "POST", "/v1/completions", json,
                        "{\"model\":\"caravan-echo\"}", 400, "prompt", null),
                Arguments.of("garbage after the JSON", "POST", CHAT, json,
                        "{\"model\":\"caravan-echo\",\"messages\":" + USER + "}garbage", 400, ANY, null),
                Arguments.of("two JSON objects", "POST", CHAT, json,
                        "{\"model\":\"caravan-echo\",\"messages\":" + USER + "}{\"model\":\"x\"}", 400, ANY, null),
                Arguments.of("a second value after the JSON", "POST", CHAT, json,
                        "{\"model\":\"caravan-echo\",\"messages\":" + USER + "} 42", 400, ANY, null),
                Arguments.of("bad token inside the JSON", "POST", CHAT, json,
                        "{\"model\":\"caravan-echo\",\"stream\":garbage}", 400, ANY, null),
                Arguments.of("unknown model with a long id", "POST", CHAT, json,
                        "{\"model\":\"" + LONG_VALUE + "\",\"messages\":" + USER + "}", 404, "model",
                        "model_not_found"),
                Arguments.of("long content type", "POST", CHAT, "text/" + LONG_VALUE,
                        "{\"model\":\"caravan-echo\",\"messages\":" + USER + "}", 415, ANY, null),
                Arguments.of("long unknown path", "POST", "/v1/" + LONG_VALUE, json, "{}", 404, ANY, null),
                Arguments.of("long unknown model id in the path", "GET", "/v1/models/" + LONG_VALUE, null, null,
                        404, "model", "model_not_found"),
                Arguments.of("escape of invalid UTF-8 in a model id", "GET", "/v1/models/caravan%C0%80echo", null,
                        null, 400, ANY, null));
    }

    @Order(1)
    @ParameterizedTest(name = "{0} -> {5}")
    @MethodSource("corpus")
    void badInputGetsItsStatusAndAnOpenAiError(String name, String method, String path, String contentType,
                                               String body, int status, String param, String code) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri(path)).timeout(TIMEOUT);
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> response = gateway.http().send(request.build(), HttpResponse.BodyHandlers.ofString());
        answered.incrementAndGet();

        assertEquals(status, response.statusCode(), name + ": " + response.body());
        String type = response.headers().firstValue("content-type").orElse("");
        assertTrue(type.toLowerCase(Locale.ROOT).startsWith("application/json"),
                name + ": content-type was '" + type + "', body " + response.body());
        JsonNode error = assertOpenAiError(name, response.body());
        if (status == 400) {
            assertEquals("invalid_request_error", error.get("type").asText(), name);
        }
        if (!ANY.equals(param)) {
            assertEquals(param, error.get("param").asText(), name + ": param of " + response.body());
        }
        if (code != null) {
            assertEquals(code, error.get("code").asText(), name + ": code of " + response.body());
        }
    }

    /** Checks the error envelope; returns the inner error object. */
    static JsonNode assertOpenAiError(String name, String body) throws IOException {
        assertFalse(body.contains("Exception"), name + ": a stack trace or exception name leaked: " + body);
        assertFalse(body.contains("at dev."), name + ": a stack trace leaked: " + body);
        assertFalse(body.contains("at org.apache."), name + ": a stack trace leaked: " + body);
        JsonNode root = Json.MAPPER.readTree(body);
        assertTrue(root.isObject(), name + ": " + body);
        assertEquals(1, root.size(), name + ": only \"error\" at the top: " + body);
        JsonNode error = root.get("error");
        assertNotNull(error, name + ": " + body);
        assertTrue(error.isObject(), name + ": " + body);
        for (String key : new String[] {"message", "type", "param", "code"}) {
            assertTrue(error.has(key), name + ": error." + key + " is missing in " + body);
        }
        assertTrue(error.get("message").isTextual() && !error.get("message").asText().isBlank(),
                name + ": message must be a non-empty string: " + body);
        String message = error.get("message").asText();
        for (String internal : new String[] {"Unrecognized token", "Source:", "fasterxml", "jackson", "Jackson",
                "JsonNode", "FAIL_ON", "Trailing token", "START_OBJECT", "was expecting", "(code "}) {
            assertFalse(message.contains(internal), name + ": the message names parser internals: " + body);
        }
        assertFalse(message.contains("TAIL-NEVER-ECHOED"), name + ": a long client value was echoed: " + body);
        assertTrue(message.length() < 300, name + ": the message is short: " + body);
        assertTrue(error.get("type").isTextual() && !error.get("type").asText().isBlank(),
                name + ": type must be a string: " + body);
        assertTrue(error.get("param").isNull() || error.get("param").isTextual(), name + ": " + body);
        assertTrue(error.get("code").isNull() || error.get("code").isTextual(), name + ": " + body);
        return error;
    }

    @Order(2)
    @Test
    void aBodyOverMaxBodyBytesGets413AndTheConnectionCloses() throws Exception {
        try (GatewayInstance small = GatewayInstance.builder()
                .property("camel.server.max-body-size", "65536").start()) {
            byte[] filler = new byte[100 * 1024];
            Arrays.fill(filler, (byte) 'a');
            String prefix = "{\"model\":\"caravan-echo\",\"messages\":[{\"role\":\"user\",\"content\":\"";
            String suffix = "\"}]}";
            ByteArrayOutputStream json = new ByteArrayOutputStream();
            json.writeBytes(prefix.getBytes(StandardCharsets.US_ASCII));
            json.writeBytes(filler);
            json.writeBytes(suffix.getBytes(StandardCharsets.US_ASCII));
            byte[] body = json.toByteArray();

            RawResponse response = rawPost(small.port(), CHAT, "application/json", body);
            assertEquals(413, response.status, response.text);
            assertTrue(response.header("content-type").toLowerCase(Locale.ROOT).startsWith("application/json"),
                    response.text);
            assertOpenAiError("413", response.body);
            assertTrue(response.closed, "the gateway closes the connection after a 413 it did not read to the end: "
                    + response.head);

            // the same gateway still takes a body under the limit
            HttpResponse<String> ok = small.send(HttpRequest.newBuilder(small.uri(CHAT)).timeout(TIMEOUT)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"caravan-echo\",\"messages\":[{\"role\":\"user\",\"content\":\"small\"}]}"))
                    .build());
            assertEquals(200, ok.statusCode(), ok.body());
        }
    }

    @Order(2)
    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidUtf8")
    void aBodyThatIsNotUtf8Gets400(String name, byte[] body) throws Exception {
        HttpResponse<String> response = gateway.http().send(HttpRequest.newBuilder(gateway.uri(CHAT)).timeout(TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(400, response.statusCode(), name + ": " + response.body());
        JsonNode error = assertOpenAiError(name, response.body());
        assertEquals("invalid_request_error", error.get("type").asText());
        assertTrue(error.get("message").asText().contains("UTF-8"), response.body());
    }

    /** Bytes Jackson takes (overlong forms, UTF-16 surrogates) as well as those it refuses. */
    static Stream<Arguments> invalidUtf8() {
        return Stream.of(
                Arguments.of("overlong NUL (C0 80)", chatWithContent(new byte[] {(byte) 0xc0, (byte) 0x80})),
                Arguments.of("overlong slash (E0 80 AF)", chatWithContent(new byte[] {(byte) 0xe0, (byte) 0x80, (byte) 0xaf})),
                Arguments.of("UTF-16 surrogate (ED A0 80)", chatWithContent(new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80})),
                Arguments.of("beyond U+10FFFF (F4 90 80 80)",
                        chatWithContent(new byte[] {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80})),
                Arguments.of("lone continuation byte (80)", chatWithContent(new byte[] {(byte) 0x80})),
                Arguments.of("truncated sequence (C3)", chatWithContent(new byte[] {(byte) 0xc3})),
                Arguments.of("FF", chatWithContent(new byte[] {(byte) 0xff})));
    }

    private static byte[] chatWithContent(byte[] content) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes("{\"model\":\"caravan-echo\",\"messages\":[{\"role\":\"user\",\"content\":\"a"
                .getBytes(StandardCharsets.US_ASCII));
        body.writeBytes(content);
        body.writeBytes("b\"}]}".getBytes(StandardCharsets.US_ASCII));
        return body.toByteArray();
    }

    @Order(2)
    @Test
    void validUtf8OfEveryLengthIsTaken() throws Exception {
        String text = "é ж € 𝄞 日本";
        HttpResponse<String> response = gateway.http().send(HttpRequest.newBuilder(gateway.uri(CHAT)).timeout(TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"caravan-echo\",\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}]}",
                        StandardCharsets.UTF_8)).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("You said: " + text,
                Json.MAPPER.readTree(response.body()).at("/choices/0/message/content").asText());
    }

    @Order(2)
    @Test
    void aModelIdInThePathIsDecodedOnceAsAPathNotAsAForm() throws Exception {
        try (GatewayInstance withIds = GatewayInstance.builder().config("""
                backends:
                  here: {type: local}
                models:
                  "a+b": {backend: here, upstream-model: caravan-echo}
                  "x/y": {backend: here, upstream-model: caravan-echo}
                """).start()) {
            HttpResponse<String> plus = withIds.get("/v1/models/a+b");
            assertEquals(200, plus.statusCode(), "'+' stays '+': " + plus.body());
            assertEquals("a+b", Json.MAPPER.readTree(plus.body()).get("id").asText());
            HttpResponse<String> escapedPlus = withIds.get("/v1/models/a%2Bb");
            assertEquals(200, escapedPlus.statusCode(), escapedPlus.body());
            assertEquals("a+b", Json.MAPPER.readTree(escapedPlus.body()).get("id").asText());
            HttpResponse<String> slash = withIds.get("/v1/models/x%2Fy");
            assertEquals(200, slash.statusCode(), slash.body());
            assertEquals("x/y", Json.MAPPER.readTree(slash.body()).get("id").asText());
            assertEquals(200, withIds.get("/v1/models/x/y").statusCode());
            HttpResponse<String> twice = withIds.get("/v1/models/x%252Fy");
            assertEquals(404, twice.statusCode(), "decoded once only ('x%2Fy' is not 'x/y'): " + twice.body());
            assertOpenAiError("decoded twice", twice.body());
            assertEquals(404, withIds.get("/v1/models/a%20b").statusCode(), "a space is not '+'");
            // escapes the JDK client refuses to send, as a raw request: 400 (from Vert.x's router or from us)
            for (String bad : new String[] {"/v1/models/a%zzb", "/v1/models/a%2", "/v1/models/a%"}) {
                RawResponse response = rawGet(withIds.port(), bad);
                assertEquals(400, response.status(), bad + ": " + response.text());
            }
        }
    }

    @Order(3)
    @Test
    void theGatewayIsNotWedgedAfterTheCorpus() throws Exception {
        assertEquals(corpus().count(), answered.get(), "every bad request got an answer");
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> response = gateway.http().send(HttpRequest.newBuilder(gateway.uri(CHAT))
                    .timeout(TIMEOUT).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"caravan-echo\",\"messages\":[{\"role\":\"user\",\"content\":\"still there\"}]}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), response.body());
            assertEquals("You said: still there",
                    Json.MAPPER.readTree(response.body()).at("/choices/0/message/content").asText());
        }
    }

    // -- raw HTTP/1.1 for the oversized body: the gateway answers and closes before it has read it all ------------

    record RawResponse(int status, String text, String head, String body, boolean closed) {
        String header(String name) {
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
            return "";
        }
    }

    /**
     * Sends the request from a second thread while this one reads, so the answer is read even when the gateway
     * replies and closes before the whole body went out (a write then fails with a reset; that is expected).
     */
    static RawResponse rawPost(int port, String path, String contentType, byte[] body) throws Exception {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout((int) TIMEOUT.toMillis());
            OutputStream out = socket.getOutputStream();
            String head = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Type: " + contentType
                    + "\r\nContent-Length: " + body.length + "\r\nConnection: keep-alive\r\n\r\n";
            Thread writer = new Thread(() -> {
                try {
                    out.write(head.getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    for (int off = 0; off < body.length; off += 8192) {
                        out.write(body, off, Math.min(8192, body.length - off));
                        out.flush();
                    }
                } catch (IOException expected) {
                    // the gateway closed the connection after its 413
                }
            }, "raw-post-writer");
            writer.setDaemon(true);
            writer.start();
            byte[] received = readResponse(socket.getInputStream());
            boolean closed = closedByPeer(socket.getInputStream());
            writer.join(TIMEOUT.toMillis());
            String text = new String(received, StandardCharsets.UTF_8);
            int end = text.indexOf("\r\n\r\n");
            if (!text.startsWith("HTTP/1.1 ") || end < 0) {
                fail("no HTTP response arrived: '" + text + "'");
            }
            int status = Integer.parseInt(text.substring(9, 12));
            String headPart = text.substring(0, end);
            String bodyPart = text.substring(end + 4);
            RawResponse response = new RawResponse(status, text, headPart, bodyPart, closed);
            String length = response.header("content-length");
            if (!length.isEmpty()) {
                int n = Integer.parseInt(length);
                assertTrue(bodyPart.getBytes(StandardCharsets.UTF_8).length >= n, "the whole body arrived: " + text);
                bodyPart = new String(Arrays.copyOf(bodyPart.getBytes(StandardCharsets.UTF_8), n), StandardCharsets.UTF_8);
                response = new RawResponse(status, text, headPart, bodyPart, closed);
            }
            return response;
        }
    }

    static RawResponse rawGet(int port, String path) throws Exception {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout((int) TIMEOUT.toMillis());
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String text = new String(readResponse(socket.getInputStream()), StandardCharsets.UTF_8);
            int end = text.indexOf("\r\n\r\n");
            if (!text.startsWith("HTTP/1.1 ") || end < 0) {
                fail("no HTTP response arrived: '" + text + "'");
            }
            return new RawResponse(Integer.parseInt(text.substring(9, 12)), text, text.substring(0, end),
                    text.substring(end + 4), true);
        }
    }

    /** After a complete answer: does the peer end the connection (EOF or reset) rather than leave it open? */
    private static boolean closedByPeer(InputStream in) {
        byte[] buffer = new byte[8192];
        try {
            while (true) {
                int n = in.read(buffer);
                if (n < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException open) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    /** Reads until the head and a Content-Length body have arrived, or the connection ends. */
    private static byte[] readResponse(InputStream in) throws IOException {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        while (true) {
            int n;
            try {
                n = in.read(buffer);
            } catch (SocketTimeoutException e) {
                fail("the response did not complete within " + TIMEOUT + ": '" + received + "'");
                return null;
            } catch (IOException reset) {
                break; // closed with a reset after the answer: keep what arrived
            }
            if (n < 0) {
                break;
            }
            received.write(buffer, 0, n);
            if (complete(received.toByteArray())) {
                break;
            }
        }
        return received.toByteArray();
    }

    private static boolean complete(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        if (end < 0) {
            return false;
        }
        for (String line : text.substring(0, end).split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                int n = Integer.parseInt(line.substring(15).trim());
                return bytes.length - (end + 4) >= n;
            }
        }
        return false; // chunked or close-delimited: read to the end
    }
}
