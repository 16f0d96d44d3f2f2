package dev.caravan.support;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.openai.Json;

/** Chat requests to a gateway, and views of its answers, that many tests share. */
public final class Calls {

    private Calls() {
    }

    /** A one-message chat that says whether it streams; the message is "hello". */
    public static String body(String model, boolean stream) {
        return body(model, stream, "hello");
    }

    public static String body(String model, boolean stream, String content) {
        return "{\"model\":\"" + model + "\",\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}";
    }

    /** A one-message chat with no stream field at all, so the gateway's default applies. */
    public static String body(String model, String content) {
        return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}";
    }

    /**
     * POST /v1/chat/completions with this JSON and these header name/value pairs, for the caller to finish (a
     * timeout, say). A pair whose value is null is left out, so an optional header can be passed as it is.
     */
    public static HttpRequest.Builder chatRequest(GatewayInstance gateway, String json, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        for (int i = 0; i + 1 < headers.length; i += 2) {
            if (headers[i + 1] != null) {
                request.header(headers[i], headers[i + 1]);
            }
        }
        return request;
    }

    /** A non-streamed "hello" to the model, answered in full. */
    public static HttpResponse<String> chat(GatewayInstance gateway, String model, String... headers) {
        return gateway.send(chatRequest(gateway, body(model, false), headers).build());
    }

    public static CompletableFuture<HttpResponse<String>> chatAsync(GatewayInstance gateway, String model,
            String... headers) {
        return sendAsync(gateway, chatRequest(gateway, body(model, false), headers));
    }

    /** Sends without waiting, for tests that hold several requests in flight at once. */
    public static CompletableFuture<HttpResponse<String>> sendAsync(GatewayInstance gateway,
            HttpRequest.Builder request) {
        return gateway.http().sendAsync(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A streamed "hello" over a raw socket, read to its end (or its cut). */
    public static RawHttp.Response stream(GatewayInstance gateway, String model, String... headerLines)
            throws IOException {
        return rawChat(gateway, body(model, true), headerLines);
    }

    /** A chat over a raw socket (which shows the bytes exactly as sent), read to its end (or its cut). */
    public static RawHttp.Response rawChat(GatewayInstance gateway, String json, String... headerLines)
            throws IOException {
        try (RawHttp http = RawHttp.postJson(gateway.port(), "/v1/chat/completions", json, headerLines)) {
            return http.readAll();
        }
    }

    public static JsonNode json(String text) {
        try {
            return Json.MAPPER.readTree(text);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }

    public static String errorCode(HttpResponse<String> response) {
        return json(response.body()).at("/error/code").asText();
    }

    /** The last SSE event parsed, for a stream that ended with an error event. */
    public static JsonNode lastEvent(RawHttp.Response response) {
        List<String> events = response.events();
        return json(events.get(events.size() - 1));
    }

    /** The backend's entry in GET /health. */
    public static JsonNode health(GatewayInstance gateway, String backend) {
        return json(gateway.get("/health").body()).path("backends").path(backend);
    }

    /** The backend's lane in GET /v1/lanes. */
    public static JsonNode lane(GatewayInstance gateway, String backend) {
        for (JsonNode lane : json(gateway.get("/v1/lanes").body()).path("data")) {
            if (backend.equals(lane.path("backend").asText())) {
                return lane;
            }
        }
        return Json.MAPPER.missingNode();
    }

    public static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
