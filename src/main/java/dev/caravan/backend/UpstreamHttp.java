package dev.caravan.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

/**
 * The HTTP part every adapter shares: a POST of JSON to the upstream with the gateway's own headers only (no
 * client header is ever forwarded, hop-by-hop ones included), aborted on cancellation, and a non-2xx reply
 * turned into the client's error.
 */
final class UpstreamHttp {

    private static final CharSequence JSON = HttpHeaders.createOptimized("application/json");

    private UpstreamHttp() {
    }

    /** Sends the request; completes with the response once its status is 2xx (body not yet read). */
    static Future<HttpClientResponse> post(HttpClient client, UpstreamCall call, String path, ObjectNode body,
                                           CharSequence accept) {
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setAbsoluteURI(url(call.backend().url(), path))
                .putHeader(HttpHeaders.CONTENT_TYPE, JSON)
                .putHeader(HttpHeaders.ACCEPT, accept)
                .putHeader("x-request-id", call.requestId());
        String apiKey = call.backend().apiKey();
        if (apiKey != null && !apiKey.isBlank()) {
            options.putHeader(HttpHeaders.AUTHORIZATION, "Bearer " + apiKey);
        }
        Buffer payload = Json.buffer(body);
        return client.request(options)
                .compose(request -> {
                    call.cancellation().onCancel(reason -> request.reset(0, reason));
                    return request.send(payload);
                })
                .recover(failure -> Future.failedFuture(UpstreamErrors.ofFailure(failure)))
                .compose(response -> response.statusCode() / 100 == 2
                        ? Future.succeededFuture(response)
                        : UpstreamBodies.prefix(response, UpstreamBodies.ERROR_BODY_BYTES)
                                .recover(e -> Future.succeededFuture(Buffer.buffer()))
                                .compose(error -> Future.failedFuture(
                                        UpstreamErrors.ofStatus(response.statusCode(),
                                                response.getHeader(HttpHeaders.RETRY_AFTER), error))));
    }

    /** The reply as JSON, read whole but never more than {@code maxBytes} (MAX_UPSTREAM_REPLY_BYTES). */
    static Future<JsonNode> postForJson(HttpClient client, UpstreamCall call, String path, ObjectNode body,
                                        long maxBytes) {
        return post(client, call, path, body, JSON)
                .compose(response -> UpstreamBodies.read(response, maxBytes))
                .recover(failure -> Future.failedFuture(UpstreamErrors.ofFailure(failure)))
                .map(Json::parseUpstream);
    }

    static Future<JsonNode> getJson(HttpClient client, String baseUrl, String path, String apiKey, long maxBytes) {
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setAbsoluteURI(url(baseUrl, path))
                .setTimeout(3000)
                .putHeader(HttpHeaders.ACCEPT, JSON);
        if (apiKey != null && !apiKey.isBlank()) {
            options.putHeader(HttpHeaders.AUTHORIZATION, "Bearer " + apiKey);
        }
        return client.request(options)
                .compose(request -> request.send())
                .compose(response -> response.statusCode() / 100 == 2
                        ? UpstreamBodies.read(response, maxBytes)
                        : Future.failedFuture("status " + response.statusCode()))
                .map(Json::parseUpstream);
    }

    /** Joins a base URL and a path without doubling or losing the slash. */
    static String url(String base, String path) {
        if (base.endsWith("/")) {
            return base.substring(0, base.length() - 1) + path;
        }
        return base + path;
    }
}
