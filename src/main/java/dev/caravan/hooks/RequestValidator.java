package dev.caravan.hooks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Operation;
import dev.caravan.openai.ReplyFormat;
import dev.caravan.openai.Utf8;
import io.vertx.core.buffer.Buffer;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

/**
 * Parses the body and checks it against the OpenAI request schema of its endpoint, naming the offending field
 * in {@code param}, so that a bad request never reaches a backend. Fields it does not know pass untouched.
 */
public final class RequestValidator implements Processor {

    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool", "function");

    @Override
    public void process(Exchange exchange) {
        Message message = exchange.getMessage();
        requireJsonContentType(message.getHeader("Content-Type", String.class));
        ObjectNode request = parse(message.getBody());
        Operation operation = operation(exchange);
        requireString(request, "model");
        switch (operation) {
            case CHAT -> validateChat(request);
            case COMPLETION -> validateCompletion(request);
            case EMBEDDINGS -> validateEmbeddings(request);
        }
        exchange.setProperty(ExchangeKeys.OPERATION, operation);
        exchange.setProperty(ExchangeKeys.CLIENT_REQUEST, message.getBody());
        exchange.setProperty(ExchangeKeys.ASKED_MODEL, request.get("model").asText());
        message.setBody(request); // from here on the body is the request: a YAML step reshapes what goes upstream
        Object format = exchange.getProperty(ExchangeKeys.REPLY_FORMAT);
        if (format == null || !"NDJSON".equals(format.toString())) {
            boolean stream = operation != Operation.EMBEDDINGS && request.path("stream").asBoolean(false);
            exchange.setProperty(ExchangeKeys.REPLY_FORMAT, stream ? ReplyFormat.SSE : ReplyFormat.JSON);
        } else {
            exchange.setProperty(ExchangeKeys.REPLY_FORMAT, ReplyFormat.NDJSON);
        }
    }

    private static Operation operation(Exchange exchange) {
        Object operation = exchange.getProperty(ExchangeKeys.OPERATION);
        if (operation instanceof Operation op) {
            return op;
        }
        return Operation.valueOf(String.valueOf(operation).toUpperCase(Locale.ROOT));
    }

    private static void requireJsonContentType(String contentType) {
        if (contentType == null) {
            return; // no type at all: read it as JSON, as OpenAI does
        }
        String type = contentType.toLowerCase(Locale.ROOT);
        if (!type.startsWith("application/json") && !type.contains("+json")) {
            throw new OpenAiError(415, "invalid_request_error", "unsupported_media_type", null,
                    "Content-Type must be application/json, not " + OpenAiError.echo(contentType));
        }
    }

    private static ObjectNode parse(Object body) {
        if (body == null) {
            throw OpenAiError.invalidRequest(null, "The request has no body; a JSON object was expected");
        }
        byte[] bytes = body instanceof Buffer buffer ? buffer.getBytes()
                : body instanceof byte[] raw ? raw : body.toString().getBytes(StandardCharsets.UTF_8);
        if (!Utf8.isValid(bytes)) {
            throw OpenAiError.invalidRequest(null, "The request body is not valid UTF-8");
        }
        JsonNode node;
        boolean valueRead = false;
        try (JsonParser parser = Json.MAPPER.createParser(bytes)) {
            node = Json.MAPPER.readTree(parser);
            valueRead = true;
            // one JSON value and nothing after it: "{...}garbage" or "{...}{...}" is not a request
            if (parser.nextToken() != null) {
                throw OpenAiError.invalidRequest(null, "We could not parse the JSON body of your request: "
                        + "unexpected data after the JSON object" + at(parser.currentTokenLocation()));
            }
        } catch (JsonProcessingException e) {
            throw OpenAiError.invalidRequest(null, "We could not parse the JSON body of your request: "
                    + (valueRead ? "unexpected data after the JSON object" : parseProblem(e)) + at(e.getLocation()));
        } catch (IOException e) {
            throw OpenAiError.invalidRequest(null, "The request body could not be read");
        }
        if (node instanceof ObjectNode object) {
            return object;
        }
        throw OpenAiError.invalidRequest(null, "The request body must be a JSON object");
    }

    /**
     * The problem in our own words: Jackson's messages name its classes and features and quote the client's
     * bytes ("Unrecognized token 'garbage'"), which an error reply must not.
     */
    private static String parseProblem(JsonProcessingException e) {
        if (e instanceof JsonEOFException) {
            return "the JSON ends before it is complete";
        }
        return "the JSON is malformed";
    }

    private static String at(JsonLocation location) {
        return location == null || location.getLineNr() < 1 ? ""
                : " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
    }

    private static void validateChat(ObjectNode request) {
        JsonNode messages = request.get("messages");
        if (messages == null || messages.isNull()) {
            throw OpenAiError.invalidRequest("messages", "Missing required parameter: 'messages'.");
        }
        if (!messages.isArray()) {
            throw OpenAiError.invalidRequest("messages", "'messages' must be an array");
        }
        if (messages.isEmpty()) {
            throw OpenAiError.invalidRequest("messages", "'messages' must contain at least one message");
        }
        for (int i = 0; i < messages.size(); i++) {
            validateMessage(messages.get(i), "messages[" + i + "]");
        }
        validateSampling(request);
        optionalType(request, "tools", JsonNode::isArray, "an array");
        optionalType(request, "stream_options", JsonNode::isObject, "an object");
    }

    private static void validateMessage(JsonNode message, String where) {
        if (!message.isObject()) {
            throw OpenAiError.invalidRequest(where, "'" + where + "' must be an object");
        }
        JsonNode role = message.get("role");
        if (role == null || !role.isTextual() || !ROLES.contains(role.asText())) {
            throw OpenAiError.invalidRequest(where + ".role",
                    "'" + where + ".role' must be one of system, developer, user, assistant, tool");
        }
        JsonNode content = message.get("content");
        boolean toolCalls = message.hasNonNull("tool_calls") || message.hasNonNull("function_call");
        if (content == null || content.isNull()) {
            if (!toolCalls) {
                throw OpenAiError.invalidRequest(where + ".content", "'" + where + ".content' is required");
            }
        } else if (!content.isTextual() && !content.isArray()) {
            throw OpenAiError.invalidRequest(where + ".content",
                    "'" + where + ".content' must be a string or an array of content parts");
        }
    }

    private static void validateCompletion(ObjectNode request) {
        JsonNode prompt = request.get("prompt");
        if (prompt == null || prompt.isNull()) {
            throw OpenAiError.invalidRequest("prompt", "Missing required parameter: 'prompt'.");
        }
        if (!prompt.isTextual() && !prompt.isArray()) {
            throw OpenAiError.invalidRequest("prompt", "'prompt' must be a string or an array");
        }
        validateSampling(request);
    }

    private static void validateEmbeddings(ObjectNode request) {
        JsonNode input = request.get("input");
        if (input == null || input.isNull()) {
            throw OpenAiError.invalidRequest("input", "Missing required parameter: 'input'.");
        }
        if (!input.isTextual() && !(input.isArray() && !input.isEmpty())) {
            throw OpenAiError.invalidRequest("input", "'input' must be a string or a non-empty array");
        }
        JsonNode format = request.get("encoding_format");
        if (format != null && !format.isNull()
                && !("float".equals(format.asText()) || "base64".equals(format.asText()))) {
            throw OpenAiError.invalidRequest("encoding_format", "'encoding_format' must be 'float' or 'base64'");
        }
    }

    private static void validateSampling(ObjectNode request) {
        optionalType(request, "stream", JsonNode::isBoolean, "a boolean");
        optionalRange(request, "max_tokens", 1, Integer.MAX_VALUE, true);
        optionalRange(request, "max_completion_tokens", 1, Integer.MAX_VALUE, true);
        optionalRange(request, "n", 1, 128, true);
        optionalRange(request, "temperature", 0, 2, false);
        optionalRange(request, "top_p", 0, 1, false);
        optionalType(request, "stop", s -> s.isTextual() || s.isArray(), "a string or an array of strings");
    }

    private static void requireString(ObjectNode request, String field) {
        JsonNode value = request.get(field);
        if (value == null || value.isNull()) {
            throw OpenAiError.invalidRequest(field, "Missing required parameter: '" + field + "'.");
        }
        if (!value.isTextual() || value.asText().isBlank()) {
            throw OpenAiError.invalidRequest(field, "'" + field + "' must be a non-empty string");
        }
    }

    private static void optionalType(ObjectNode request, String field, java.util.function.Predicate<JsonNode> test,
                                     String what) {
        JsonNode value = request.get(field);
        if (value != null && !value.isNull() && !test.test(value)) {
            throw OpenAiError.invalidRequest(field, "'" + field + "' must be " + what);
        }
    }

    private static void optionalRange(ObjectNode request, String field, double min, double max, boolean integer) {
        JsonNode value = request.get(field);
        if (value == null || value.isNull()) {
            return;
        }
        if (!value.isNumber() || (integer && !value.canConvertToInt())
                || (integer && value.isFloatingPointNumber() && value.asDouble() != Math.rint(value.asDouble()))) {
            throw OpenAiError.invalidRequest(field, "'" + field + "' must be " + (integer ? "an integer" : "a number"));
        }
        double v = value.asDouble();
        if (v < min || v > max) {
            throw OpenAiError.invalidRequest(field, String.format(Locale.ROOT, "'%s' must be between %s and %s",
                    field, integer ? String.valueOf((long) min) : String.valueOf(min),
                    integer ? String.valueOf((long) max) : String.valueOf(max)));
        }
    }
}
