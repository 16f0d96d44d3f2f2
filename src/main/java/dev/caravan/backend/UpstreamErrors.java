package dev.caravan.backend;

import java.net.ConnectException;
import java.util.concurrent.TimeoutException;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.VertxException;
import io.vertx.core.buffer.Buffer;

/**
 * What the client sees when the upstream fails. The upstream's own message is kept: it is what a user needs
 * to fix a bad parameter. Its 4xx verdicts on the request pass through; its auth failures and 5xx are the
 * gateway's problem, so they become 502.
 */
public final class UpstreamErrors {

    private UpstreamErrors() {
    }

    public static OpenAiError ofStatus(int status, Buffer body) {
        String message = message(body);
        return switch (status) {
            case 400, 409, 413, 422 -> new OpenAiError(status == 422 ? 400 : status, "invalid_request_error",
                    "upstream_rejected", null, message);
            case 404 -> new OpenAiError(404, "invalid_request_error", "model_not_found", "model",
                    "The upstream does not know this model: " + message);
            case 429 -> new OpenAiError(429, "rate_limit_exceeded", "upstream_rate_limited", null,
                    "The upstream is rate limiting: " + message, 1, null);
            default -> new OpenAiError(502, "upstream_error", "upstream_error", null,
                    "The upstream answered " + status + ": " + message, 0, null);
        };
    }

    public static OpenAiError ofFailure(Throwable failure) {
        if (failure instanceof OpenAiError error) {
            return error;
        }
        if (failure instanceof ConnectException || failure.getCause() instanceof ConnectException) {
            return OpenAiError.upstream("The upstream cannot be reached: " + failure.getMessage(), failure);
        }
        if (failure instanceof TimeoutException) {
            return OpenAiError.deadline("The upstream did not answer in time");
        }
        if (failure instanceof VertxException && "Connection was closed".equals(failure.getMessage())) {
            return OpenAiError.upstream("The upstream closed the connection before the reply ended", failure);
        }
        return OpenAiError.upstream("The upstream call failed: " + failure.getMessage(), failure);
    }

    private static String message(Buffer body) {
        if (body == null || body.length() == 0) {
            return "(no body)";
        }
        try {
            JsonNode json = Json.MAPPER.readTree(body.getBytes());
            JsonNode error = json.get("error");
            if (error != null && error.isObject() && error.hasNonNull("message")) {
                return error.get("message").asText(); // OpenAI / vLLM
            }
            if (error != null && error.isTextual()) {
                return error.asText(); // Ollama, TGI
            }
            if (json.hasNonNull("detail")) {
                return json.get("detail").toString();
            }
        } catch (java.io.IOException ignored) {
            // not JSON: fall through to the text
        }
        String text = body.toString();
        return text.length() > 500 ? text.substring(0, 500) + "…" : text;
    }
}
