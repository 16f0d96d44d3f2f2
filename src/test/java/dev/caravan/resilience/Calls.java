package dev.caravan.resilience;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.openai.Json;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.RawHttp;

/** Requests and views the resilience tests share. */
final class Calls {

    private Calls() {
    }

    static String body(String model, boolean stream) {
        return "{\"model\":\"" + model + "\",\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
    }

    static HttpResponse<String> chat(GatewayInstance gateway, String model, String... headers) {
        return gateway.send(request(gateway, model, headers));
    }

    static CompletableFuture<HttpResponse<String>> chatAsync(GatewayInstance gateway, String model, String... headers) {
        return gateway.http().sendAsync(request(gateway, model, headers), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest request(GatewayInstance gateway, String model, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body(model, false)));
        for (int i = 0; i + 1 < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return request.build();
    }

    /** A streamed chat over a raw socket, read to its end (or its cut). */
    static RawHttp.Response stream(GatewayInstance gateway, String model, String... headerLines) throws IOException {
        try (RawHttp http = RawHttp.postJson(gateway.port(), "/v1/chat/completions", body(model, true), headerLines)) {
            return http.readAll();
        }
    }

    static JsonNode json(String body) {
        try {
            return Json.MAPPER.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String errorCode(HttpResponse<String> response) {
        return json(response.body()).at("/error/code").asText();
    }

    /** The last SSE event parsed, for a stream that ended with an error event. */
    static JsonNode lastEvent(RawHttp.Response response) {
        List<String> events = response.events();
        return json(events.get(events.size() - 1));
    }

    /** The backend's entry in GET /health. */
    static JsonNode health(GatewayInstance gateway, String backend) {
        return json(gateway.get("/health").body()).path("backends").path(backend);
    }

    /** The backend's lane in GET /v1/lanes. */
    static JsonNode lane(GatewayInstance gateway, String backend) {
        for (JsonNode lane : json(gateway.get("/v1/lanes").body()).path("data")) {
            if (backend.equals(lane.path("backend").asText())) {
                return lane;
            }
        }
        return Json.MAPPER.missingNode();
    }

    static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
