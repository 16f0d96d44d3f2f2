package dev.caravan.backend;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.SecretText;
import dev.caravan.resilience.UpstreamFailure;
import io.vertx.core.VertxException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClosedException;

/**
 * What the client sees when the upstream fails, as an {@link UpstreamFailure} that also says whether another
 * attempt may help and what retry-after the upstream asked for. The upstream's own message is kept: it is what a
 * user needs to fix a bad parameter. Its 4xx verdicts on the request pass through (never retried); its auth
 * failures and 5xx are the gateway's problem, so they become 502 (500, 502, 503 and 504 are retried, as are 429,
 * connect errors and connections closed before the reply).
 */
public final class UpstreamErrors {

    private static final Pattern SECONDS = Pattern.compile("\\d{1,9}(\\.\\d{1,6})?");

    /** An upstream stream that ended without its last event: a cut, never a clean end (DESIGN §5). */
    public static final OpenAiError CUT = OpenAiError.upstream("The upstream stream ended before it finished", null);

    private UpstreamErrors() {
    }

    public static OpenAiError ofStatus(int status, Buffer body) {
        return ofStatus(status, null, body);
    }

    /** @param retryAfter the upstream's retry-after header (seconds or an HTTP date), or null */
    public static OpenAiError ofStatus(int status, String retryAfter, Buffer body) {
        String message = message(body);
        long waitMillis = status == 429 || status == 503 ? retryAfterMillis(retryAfter) : -1;
        return switch (status) {
            case 400, 409, 413, 422 -> new UpstreamFailure(status == 422 ? 400 : status, "invalid_request_error",
                    "upstream_rejected", null, message, 0, null, status, false, -1);
            case 404 -> new UpstreamFailure(404, "invalid_request_error", "model_not_found", "model",
                    "The upstream does not know this model: " + message, 0, null, status, false, -1);
            case 429 -> new UpstreamFailure(429, "rate_limit_exceeded", "upstream_rate_limited", null,
                    "The upstream is rate limiting: " + message,
                    waitMillis > 0 ? Math.max(1, (waitMillis + 999) / 1000) : 1, null, status, true, waitMillis);
            default -> new UpstreamFailure(502, "upstream_error", "upstream_error", null,
                    "The upstream answered " + status + ": " + message, 0, null, status,
                    status == 500 || status == 502 || status == 503 || status == 504, waitMillis);
        };
    }

    /** An upstream reply over MAX_UPSTREAM_REPLY_BYTES: not retried, the same request would bring the same reply. */
    public static OpenAiError tooLarge(long max) {
        return new UpstreamFailure(502, "upstream_error", "upstream_reply_too_large", null,
                "The upstream reply is larger than this gateway accepts (MAX_UPSTREAM_REPLY_BYTES, " + max
                        + " bytes)", 0, null, 0, false, -1);
    }

    public static OpenAiError ofFailure(Throwable failure) {
        if (failure instanceof OpenAiError error) {
            return error;
        }
        if (isConnectError(failure) || isConnectError(failure.getCause())) {
            return new UpstreamFailure(502, "upstream_error", "upstream_error", null,
                    "The upstream cannot be reached: " + SecretText.scrub(failure.getMessage()), 0, failure, 0, true, -1);
        }
        if (failure instanceof TimeoutException) {
            return OpenAiError.deadline("The upstream did not answer in time");
        }
        if (failure instanceof HttpClosedException
                || failure instanceof VertxException && "Connection was closed".equals(failure.getMessage())
                || failure instanceof IOException && !(failure instanceof JsonProcessingException)) {
            // a pooled keep-alive connection the upstream had closed, or a crash mid-reply: worth another try
            return new UpstreamFailure(502, "upstream_error", "upstream_error", null,
                    "The upstream closed the connection before the reply ended", 0, failure, 0, true, -1);
        }
        return OpenAiError.upstream("The upstream call failed: " + failure.getMessage(), failure);
    }

    /**
     * A retry-after header in milliseconds: delay-seconds ("2", "1.5") or an HTTP date; -1 when absent or not
     * understood.
     */
    public static long retryAfterMillis(String header) {
        if (header == null || header.isBlank()) {
            return -1;
        }
        String value = header.trim();
        if (SECONDS.matcher(value).matches()) {
            return (long) Math.ceil(Double.parseDouble(value) * 1000);
        }
        try {
            Instant at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            return Math.max(0, Duration.between(Instant.now(), at).toMillis());
        } catch (DateTimeParseException e) {
            return -1;
        }
    }

    private static boolean isConnectError(Throwable t) {
        return t instanceof ConnectException || t instanceof UnknownHostException || t instanceof NoRouteToHostException;
    }

    /** The upstream's own words, without anything that looks like a credential (it may echo our key). */
    private static String message(Buffer body) {
        return SecretText.scrub(rawMessage(body));
    }

    private static String rawMessage(Buffer body) {
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
