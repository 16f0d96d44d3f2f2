package dev.caravan.tasks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;

/**
 * Where a task stands: queued, running, done (with the completion) or failed (with the error object).
 *
 * @param attempts times the task was started so far
 * @param result   the chat.completion once done, else null
 * @param error    the OpenAI error object ({message, type, param, code}) once failed, or of the last failed
 *                 attempt while it waits for the next; else null
 */
public record TaskState(Task task, String status, int attempts, JsonNode result, JsonNode error) {

    public static final String QUEUED = "queued";
    public static final String RUNNING = "running";
    public static final String DONE = "done";
    public static final String FAILED = "failed";

    boolean finished() {
        return DONE.equals(status) || FAILED.equals(status);
    }

    /** What GET /tasks/{id} answers and a callback receives. */
    public ObjectNode view() {
        ObjectNode view = Json.object();
        view.put("id", task.id());
        view.put("object", "task");
        view.put("status", status);
        view.set("result", result);
        // the error of an attempt that will be retried is not the task's outcome
        view.set("error", FAILED.equals(status) ? error : null);
        view.put("created", task.created());
        view.put("attempts", attempts);
        return view;
    }
}
