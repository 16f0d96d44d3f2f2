package dev.caravan.openai;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A failure the client must see as OpenAI's error object. Thrown anywhere on the request path; the error
 * reply turns it into {@code {"error":{"message","type","param","code"}}} with its HTTP status.
 */
public class OpenAiError extends RuntimeException {

    /** The code of {@link #notReady}. */
    public static final String NOT_READY = "not_ready";

    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final long retryAfterSeconds;

    public OpenAiError(int status, String type, String code, String param, String message) {
        this(status, type, code, param, message, 0, null);
    }

    public OpenAiError(int status, String type, String code, String param, String message, long retryAfterSeconds,
                       Throwable cause) {
        super(message, cause, false, false); // no stack trace: these are expected outcomes, not bugs
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static OpenAiError invalidRequest(String param, String message) {
        return new OpenAiError(400, "invalid_request_error", "invalid_request", param, message);
    }

    public static OpenAiError modelNotFound(String model) {
        return new OpenAiError(404, "invalid_request_error", "model_not_found", "model",
                "The model " + echo(model) + " does not exist or you do not have access to it.");
    }

    /** The longest part of a client's value an error message shows: enough to recognise it, never a payload. */
    public static final int ECHO_CHARS = 40;

    /**
     * A client value as an error message may quote it: in single quotes, cut to {@link #ECHO_CHARS} characters
     * with "…", control characters as '?', so a message never carries (or reflects) what a client sent at length.
     */
    public static String echo(String value) {
        if (value == null) {
            return "''";
        }
        int end = value.length() <= ECHO_CHARS ? value.length()
                : value.offsetByCodePoints(0, Math.min(ECHO_CHARS, value.codePointCount(0, value.length())));
        StringBuilder quoted = new StringBuilder(end + 3).append('\'');
        for (int i = 0; i < end; i++) {
            char c = value.charAt(i);
            quoted.append(Character.isISOControl(c) ? '?' : c);
        }
        if (end < value.length()) {
            quoted.append('…');
        }
        return quoted.append('\'').toString();
    }

    /** The message may quote the upstream, so it is scrubbed of anything that looks like a credential. */
    public static OpenAiError upstream(String message, Throwable cause) {
        return new OpenAiError(502, "upstream_error", "upstream_error", null, SecretText.scrub(message), 0, cause);
    }

    public static OpenAiError overloaded(String message, long retryAfterSeconds) {
        return new OpenAiError(503, "server_error", "overloaded", null, message, retryAfterSeconds, null);
    }

    /** 503 while the gateway starts or a route reloads: the request was never accepted, so it is not a dead letter. */
    public static OpenAiError notReady(String message) {
        return new OpenAiError(503, "server_error", NOT_READY, null, message, 1, null);
    }

    public static OpenAiError deadline(String message) {
        return new OpenAiError(504, "timeout_error", "deadline_exceeded", null, message);
    }

    public static OpenAiError internal(String message) {
        return new OpenAiError(500, "server_error", "internal_error", null, message);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String code() {
        return code;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** The error object: {"error":{...}}. */
    public ObjectNode toJson() {
        ObjectNode root = Json.MAPPER.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", getMessage());
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return root;
    }
}
