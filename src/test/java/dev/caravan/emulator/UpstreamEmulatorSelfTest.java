package dev.caravan.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Checks the emulator's wire formats, knobs and counters with a plain JDK client over loopback. */
class UpstreamEmulatorSelfTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String CHAT = "{\"model\":\"m1\",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
            + "{\"role\":\"user\",\"content\":\"say hi please\"}]";

    private static UpstreamEmulator emulator;
    private static HttpClient http;

    @BeforeAll
    static void start() {
        emulator = UpstreamEmulator.start();
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();
    }

    @AfterAll
    static void stop() {
        emulator.close();
    }

    @BeforeEach
    void reset() {
        emulator.reset();
    }

    @Test
    void tokensKeepTheirTrailingSpace() {
        assertEquals(List.of("Hello ", "from ", "the ", "emulator! ", "How ", "can ", "I ", "help?"),
                Tokens.split(UpstreamEmulator.DEFAULT_REPLY));
        assertEquals(List.of("  a  ", "b\n"), Tokens.split("  a  b\n"));
        assertEquals(List.of(), Tokens.split(""));
    }

    @Test
    void openAiStreamStartsWithRoleEndsWithDoneAndHasNoUsageUnlessAsked() throws Exception {
        emulator.reply("one two three");
        HttpResponse<String> r = post("/v1/chat/completions", CHAT + ",\"stream\":true}");
        assertEquals(200, r.statusCode());
        assertEquals("text/event-stream", r.headers().firstValue("content-type").orElseThrow());
        String body = r.body();
        assertTrue(body.endsWith("\n\ndata: [DONE]\n\n"), body);
        assertFalse(body.contains("usage"), body);
        List<String> events = events(body);
        assertEquals(6, events.size(), body);   // role, 3 tokens, finish, [DONE]
        for (String e : events) assertTrue(e.startsWith("data: "), e);

        JsonObject first = json(events.get(0));
        assertEquals("chat.completion.chunk", first.getString("object"));
        assertEquals("chatcmpl-emu1", first.getString("id"));
        assertEquals("m1", first.getString("model"));
        assertEquals("emu", first.getString("system_fingerprint"));
        JsonObject choice = first.getJsonArray("choices").getJsonObject(0);
        assertEquals(new JsonObject().put("role", "assistant").put("content", ""), choice.getJsonObject("delta"));
        assertTrue(choice.containsKey("finish_reason") && choice.getValue("finish_reason") == null);
        assertEquals("one ", delta(events.get(1)).getString("content"));
        assertEquals("three", delta(events.get(3)).getString("content"));
        JsonObject finish = json(events.get(4)).getJsonArray("choices").getJsonObject(0);
        assertEquals(new JsonObject(), finish.getJsonObject("delta"));
        assertEquals("stop", finish.getString("finish_reason"));
    }

    @Test
    void openAiStreamSendsUsageChunkWhenAskedAndNotWhenOmitted() throws Exception {
        emulator.reply("one two three");
        String request = CHAT + ",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"max_tokens\":2}";
        List<String> events = events(post("/v1/chat/completions", request).body());
        assertEquals(6, events.size());   // role, 2 tokens, finish, usage, [DONE]
        for (int i = 0; i < 4; i++) {
            JsonObject chunk = json(events.get(i));
            assertTrue(chunk.containsKey("usage") && chunk.getValue("usage") == null, events.get(i));
        }
        assertEquals("length", json(events.get(3)).getJsonArray("choices").getJsonObject(0).getString("finish_reason"));
        JsonObject usage = json(events.get(4));
        assertEquals(new JsonArray(), usage.getJsonArray("choices"));
        // prompt: "be brief" + "say hi please" = 5 words
        assertEquals(new JsonObject().put("prompt_tokens", 5).put("completion_tokens", 2).put("total_tokens", 7),
                usage.getJsonObject("usage"));
        assertEquals("data: [DONE]", events.get(5));

        emulator.omitUsage(true);
        String body = post("/v1/chat/completions", request).body();
        assertFalse(body.contains("\"choices\":[]"), body);
        assertTrue(body.endsWith("data: [DONE]\n\n"));
    }

    @Test
    void openAiNonStreamAndToolCalls() throws Exception {
        JsonObject r = new JsonObject(post("/v1/chat/completions", CHAT + "}").body());
        assertEquals("chat.completion", r.getString("object"));
        JsonObject choice = r.getJsonArray("choices").getJsonObject(0);
        assertEquals(UpstreamEmulator.DEFAULT_REPLY, choice.getJsonObject("message").getString("content"));
        assertEquals("stop", choice.getString("finish_reason"));
        assertEquals(13, r.getJsonObject("usage").getInteger("total_tokens"));   // 5 prompt + 8 completion

        String tools = ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{}}}]";
        JsonObject call = new JsonObject(post("/v1/chat/completions", CHAT + tools + "}").body())
                .getJsonArray("choices").getJsonObject(0);
        assertEquals("tool_calls", call.getString("finish_reason"));
        JsonObject fn = call.getJsonObject("message").getJsonArray("tool_calls").getJsonObject(0).getJsonObject("function");
        assertEquals("get_weather", fn.getString("name"));
        assertEquals("{\"location\":\"Paris\"}", fn.getString("arguments"));

        List<String> events = events(post("/v1/chat/completions", CHAT + tools + ",\"stream\":true}").body());
        JsonObject firstCall = delta(events.get(0)).getJsonArray("tool_calls").getJsonObject(0);
        assertEquals("call_emu1", firstCall.getString("id"));
        StringBuilder args = new StringBuilder();
        for (String e : events.subList(1, events.size() - 2)) {
            args.append(delta(e).getJsonArray("tool_calls").getJsonObject(0).getJsonObject("function").getString("arguments"));
        }
        assertEquals("{\"location\":\"Paris\"}", args.toString());
        assertEquals("tool_calls", json(events.get(events.size() - 2)).getJsonArray("choices").getJsonObject(0)
                .getString("finish_reason"));
    }

    @Test
    void ollamaChatStreamsNdjsonWithFinalStatistics() throws Exception {
        emulator.reply("a b c d");
        HttpResponse<String> r = post("/api/chat", "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"why is the sky blue\"}],"
                + "\"options\":{\"num_predict\":3}}");   // no "stream": Ollama streams by default
        assertEquals("application/x-ndjson", r.headers().firstValue("content-type").orElseThrow());
        assertTrue(r.body().endsWith("}\n"));
        List<String> lines = r.body().lines().toList();
        assertEquals(4, lines.size(), r.body());
        JsonObject token = new JsonObject(lines.get(0));
        assertEquals(false, token.getBoolean("done"));
        assertEquals("a ", token.getJsonObject("message").getString("content"));
        assertTrue(token.getString("created_at").matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,9})?Z"));
        JsonObject last = new JsonObject(lines.get(3));
        assertEquals(true, last.getBoolean("done"));
        assertEquals("length", last.getString("done_reason"));
        assertEquals("", last.getJsonObject("message").getString("content"));
        assertEquals(5, last.getInteger("prompt_eval_count"));
        assertEquals(3, last.getInteger("eval_count"));
        for (String field : List.of("total_duration", "load_duration", "prompt_eval_duration", "eval_duration")) {
            assertTrue(last.getLong(field) > 0, field);
        }

        JsonObject whole = new JsonObject(post("/api/generate", "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"stream\":false}").body());
        assertEquals("a b c d", whole.getString("response"));
        assertEquals("stop", whole.getString("done_reason"));
        assertEquals(4, whole.getInteger("eval_count"));
    }

    @Test
    void tgiStreamUsesDataWithoutSpaceAndEndsWithDetails() throws Exception {
        emulator.reply("x y z");
        HttpResponse<String> r = post("/generate_stream", "{\"inputs\":\"What is Deep Learning?\","
                + "\"parameters\":{\"max_new_tokens\":20,\"details\":true}}");
        assertEquals(200, r.statusCode());
        List<String> events = events(r.body());
        assertEquals(3, events.size(), r.body());
        for (String e : events) assertTrue(e.startsWith("data:{"), e);
        assertFalse(r.body().contains("[DONE]"));
        JsonObject first = new JsonObject(events.get(0).substring(5));
        assertEquals(1, first.getInteger("index"));
        assertEquals("x ", first.getJsonObject("token").getString("text"));
        assertTrue(first.containsKey("generated_text") && first.getValue("generated_text") == null);
        JsonObject last = new JsonObject(events.get(2).substring(5));
        assertEquals("x y z", last.getString("generated_text"));
        JsonObject details = last.getJsonObject("details");
        assertEquals("eos_token", details.getString("finish_reason"));
        assertEquals(3, details.getInteger("generated_tokens"));
        assertEquals(4, details.getInteger("input_length"));

        JsonObject generated = new JsonObject(post("/generate", "{\"inputs\":\"hi\",\"parameters\":{\"max_new_tokens\":2,\"details\":true}}").body());
        assertEquals("x y ", generated.getString("generated_text"));
        assertEquals("length", generated.getJsonObject("details").getString("finish_reason"));
    }

    @Test
    void failNextFailsTheNextRequestsOfAnyProtocol() throws Exception {
        emulator.failNext(2, 503);
        HttpResponse<String> openAi = post("/v1/chat/completions", CHAT + "}");
        assertEquals(503, openAi.statusCode());
        assertEquals("{\"error\":{\"message\":\"emulated failure\",\"type\":\"server_error\",\"param\":null,\"code\":null}}",
                openAi.body());
        HttpResponse<String> ollama = post("/api/chat", "{\"model\":\"m\",\"messages\":[]}");
        assertEquals(503, ollama.statusCode());
        assertEquals("{\"error\":\"emulated failure\"}", ollama.body());
        assertEquals(200, post("/v1/chat/completions", CHAT + "}").statusCode());
        assertEquals(3, emulator.requests());
    }

    @Test
    void cutAfterTokensDropsTheConnectionBeforeDone() throws Exception {
        emulator.cutAfterTokens(2);
        // a raw socket shows the bytes: java.net.http may drop data it already received once it sees the broken
        // body, so it cannot tell how far the stream got
        String received;
        try (Socket socket = rawPost("/v1/chat/completions", CHAT + ",\"stream\":true}")) {
            received = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);   // up to EOF
        }
        assertTrue(received.startsWith("HTTP/1.1 200"), received);
        assertTrue(received.contains("transfer-encoding: chunked"), received);
        assertEquals(3, received.split("data: ", -1).length - 1, received);   // role chunk + 2 tokens
        assertFalse(received.contains("[DONE]"), received);
        assertFalse(received.endsWith("0\r\n\r\n"), "no terminating chunk expected: " + received);
        assertTrue(received.endsWith("\n\n\r\n"), received);   // the connection ends right after a whole event
        assertTrue(emulator.awaitInFlight(0, WAIT));
        assertEquals(0, emulator.clientAborts(), "the emulator closed, not the client");

        // java.net.http sees the early end as an error, never as a complete stream
        HttpResponse<InputStream> r = http.send(request("/v1/chat/completions", CHAT + ",\"stream\":true}"),
                HttpResponse.BodyHandlers.ofInputStream());
        IOException broken = null;
        String body = "";
        try (InputStream in = r.body()) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            broken = e;
        }
        assertNotNull(broken, "expected the body to break off, read: " + body);
    }

    @Test
    void maxInFlightCountsConcurrentSlowRequests() throws Exception {
        emulator.firstTokenDelayMs(1000).tokenDelayMs(5);
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            calls.add(http.sendAsync(request("/v1/chat/completions", CHAT + ",\"stream\":true}"),
                    HttpResponse.BodyHandlers.ofString()));
        }
        assertTrue(emulator.awaitInFlight(5, WAIT), "in flight: " + emulator.inFlight());
        for (CompletableFuture<HttpResponse<String>> call : calls) {
            assertTrue(call.get().body().endsWith("data: [DONE]\n\n"));
        }
        assertTrue(emulator.awaitInFlight(0, WAIT));
        assertEquals(5, emulator.maxInFlight());
        assertEquals(0, emulator.clientAborts());
    }

    @Test
    void holdsAThousandConcurrentSlowStreams() throws Exception {
        int n = 1000;
        emulator.reply("a b c d e").firstTokenDelayMs(200).tokenDelayMs(50);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            calls.add(client.sendAsync(request("/api/chat", "{\"model\":\"m\",\"messages\":[]}"),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> call : calls) {
            assertTrue(call.get().body().contains("\"done\":true"));
        }
        assertTrue(emulator.awaitInFlight(0, WAIT));
        assertEquals(n, emulator.requests());
        assertTrue(emulator.maxInFlight() > n / 2, "max in flight " + emulator.maxInFlight());
    }

    @Test
    void clientClosingASlowStreamCountsAsAbort() throws Exception {
        emulator.tokenDelayMs(200);
        try (Socket socket = rawPost("/v1/chat/completions", CHAT + ",\"stream\":true}")) {
            String head = readUntil(socket.getInputStream(), "data: ");   // headers and the first chunk arrived
            assertTrue(head.startsWith("HTTP/1.1 200"), head);
            assertEquals(1, emulator.inFlight());
        }
        assertTrue(emulator.awaitInFlight(0, WAIT), "in flight: " + emulator.inFlight());
        assertTrue(emulator.awaitClientAborts(1, WAIT));
        assertEquals(1, emulator.clientAborts());
        // the cancelled stream's timers are gone: the next stream runs normally on the same emulator
        emulator.tokenDelayMs(0);
        assertTrue(post("/v1/chat/completions", CHAT + ",\"stream\":true}").body().endsWith("data: [DONE]\n\n"));
        assertEquals(1, emulator.clientAborts());
    }

    @Test
    void hangNextKeepsTheRequestOpenUntilTheClientLeaves() throws Exception {
        emulator.hangNext(1);
        try (Socket socket = rawPost("/generate", "{\"inputs\":\"hi\"}")) {
            assertTrue(emulator.awaitRequests(1, WAIT));
            assertTrue(emulator.awaitInFlight(1, WAIT));
            assertFalse(UpstreamEmulator.await(() -> emulator.inFlight() == 0, Duration.ofMillis(200)));
        }
        assertTrue(emulator.awaitInFlight(0, WAIT));
        assertEquals(1, emulator.clientAborts());
        assertEquals(200, post("/generate", "{\"inputs\":\"hi\"}").statusCode());   // only the next one hung
    }

    @Test
    void recordsBodiesAndHeaders() throws Exception {
        post("/v1/chat/completions", CHAT + "}");
        http.send(HttpRequest.newBuilder(URI.create(emulator.baseUrl() + "/v1/embeddings"))
                .header("Authorization", "Bearer sk-test").header("X-Custom", "v")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"e\",\"input\":\"hello world\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("e", emulator.lastRequestBody().getString("model"));
        assertEquals("/v1/embeddings", emulator.lastRequestPath());
        assertEquals("Bearer sk-test", emulator.lastRequestHeaders().get("authorization"));
        assertEquals("v", emulator.lastRequestHeaders().get("x-custom"));
        assertEquals(2, emulator.requestBodies().size());
        assertEquals("m1", emulator.requestBodies().get(0).getString("model"));
        http.send(HttpRequest.newBuilder(URI.create(emulator.baseUrl() + "/v1/models")).build(), HttpResponse.BodyHandlers.ofString());
        assertNull(emulator.lastRequestBody());
        assertEquals(2, emulator.requestBodies().size());
    }

    @Test
    void embeddingsAreDeterministicAndBase64IsLittleEndianFloats() throws Exception {
        JsonObject a = new JsonObject(post("/v1/embeddings", "{\"model\":\"e\",\"input\":[\"hello world\",\"x\"]}").body());
        assertEquals(2, a.getJsonArray("data").size());
        assertEquals(3, a.getJsonObject("usage").getInteger("prompt_tokens"));
        JsonArray vector = a.getJsonArray("data").getJsonObject(0).getJsonArray("embedding");
        assertEquals(8, vector.size());
        JsonObject b = new JsonObject(post("/v1/embeddings", "{\"model\":\"e\",\"input\":\"hello world\",\"encoding_format\":\"base64\"}").body());
        byte[] bytes = Base64.getDecoder().decode(b.getJsonArray("data").getJsonObject(0).getString("embedding"));
        float[] decoded = new float[8];
        java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(decoded);
        for (int i = 0; i < 8; i++) assertEquals(vector.getFloat(i), decoded[i], 0f);
        JsonObject ollama = new JsonObject(post("/api/embed", "{\"model\":\"e\",\"input\":\"hello world\"}").body());
        assertEquals(vector, ollama.getJsonArray("embeddings").getJsonArray(0));
    }

    // -- helpers -------------------------------------------------------------------------------------------------

    private static HttpRequest request(String path, String body) {
        return HttpRequest.newBuilder(URI.create(emulator.baseUrl() + path))
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(request(path, body), HttpResponse.BodyHandlers.ofString());
    }

    /** SSE events: the body split on the blank line that ends each event. */
    private static List<String> events(String body) {
        return Arrays.stream(body.split("\n\n")).filter(s -> !s.isEmpty()).toList();
    }

    private static JsonObject json(String event) {
        return new JsonObject(event.substring("data: ".length()));
    }

    private static JsonObject delta(String event) {
        return json(event).getJsonArray("choices").getJsonObject(0).getJsonObject("delta");
    }

    private static Socket rawPost(String path, String body) throws IOException {
        Socket socket = new Socket("127.0.0.1", emulator.port());
        socket.setSoTimeout((int) WAIT.toMillis());
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.flush();
        return socket;
    }

    private static String readUntil(InputStream in, String marker) throws IOException {
        StringBuilder sb = new StringBuilder();
        while (sb.indexOf(marker) < 0) {
            int b = in.read();
            if (b < 0) break;
            sb.append((char) b);
        }
        return sb.toString();
    }
}
