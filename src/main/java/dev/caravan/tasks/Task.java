package dev.caravan.tasks;

import java.io.IOException;
import java.security.SecureRandom;
import java.util.HexFormat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;
import dev.caravan.openai.Operation;

/**
 * A background request as accepted: who sent it (the key's id and name), what to run and where to report.
 * Immutable; its progress is a {@link TaskState}. The request is the validated request body with
 * {@code callback_url} taken out and {@code stream} forced off.
 *
 * @param ownerId     names the key that may see the task (its digest prefix, or "anonymous" when auth is off)
 * @param keyName     the key's name, for the DLQ
 * @param created     epoch seconds
 */
public record Task(String id, String ownerId, String keyName, Operation operation, ObjectNode request,
                   String callbackUrl, long created) {

    private static final SecureRandom RANDOM = new SecureRandom();

    /** "task_" and 24 random hex digits: not guessable, so an id alone reveals nothing when auth is off. */
    static String newId(String prefix) {
        byte[] bytes = new byte[12];
        RANDOM.nextBytes(bytes);
        return prefix + HexFormat.of().formatHex(bytes);
    }

    /** The same task under another id (a DLQ replay names its task before it is made). */
    Task withId(String newId) {
        return new Task(newId, ownerId, keyName, operation, request, callbackUrl, created);
    }

    String model() {
        return request.path("model").asText(null);
    }

    String toJson() {
        ObjectNode node = Json.object();
        node.put("id", id);
        node.put("owner", ownerId);
        node.put("key_name", keyName);
        node.put("operation", operation.name());
        node.set("request", request);
        node.put("callback_url", callbackUrl);
        node.put("created", created);
        return Json.string(node);
    }

    static Task fromJson(String json) {
        try {
            JsonNode node = Json.MAPPER.readTree(json);
            return new Task(node.path("id").asText(), node.path("owner").asText(), node.path("key_name").asText(),
                    Operation.valueOf(node.path("operation").asText("CHAT")), (ObjectNode) node.get("request"),
                    node.path("callback_url").isTextual() ? node.get("callback_url").asText() : null,
                    node.path("created").asLong());
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("A stored task could not be read: " + e.getMessage(), e);
        }
    }
}
