package dev.caravan.tasks;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Operation;
import io.vertx.core.Future;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * POST /tasks/dlq/{id}/replay: runs a dead letter's request again, as a new background task of the key that sent
 * it, and answers 202 with the task ({@code {"id":"task_…","status":"queued"}}). The entry stays in the DLQ.
 */
final class DeadLetterReplay extends AsyncProcessorSupport {

    private final DeadLetterStore deadLetters;
    private final TaskStore tasks;
    private final Runnable onEnqueued;

    DeadLetterReplay(DeadLetterStore deadLetters, TaskStore tasks, Runnable onEnqueued) {
        this.deadLetters = deadLetters;
        this.tasks = tasks;
        this.onEnqueued = onEnqueued;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        String id = exchange.getMessage().getHeader("id", String.class);
        Future<Task> replayed = deadLetters.find(id == null ? "" : id).compose(entry -> {
            if (entry == null) {
                return Future.failedFuture(new OpenAiError(404, "invalid_request_error", "dlq_entry_not_found", "id",
                        "No dead letter with id " + OpenAiError.echo(id)));
            }
            Task task = TaskEnqueue.newTask(new TaskOwner(entry.path("owner").asText(TaskOwner.ANONYMOUS.id()),
                            entry.path("key_name").asText(TaskOwner.ANONYMOUS.name())),
                    operation(entry), (ObjectNode) entry.get("request"));
            return tasks.enqueue(task).map(task);
        });
        return AsyncSteps.completeWhen(replayed.andThen(ar -> {
            if (ar.succeeded()) {
                TaskEnqueue.accepted(exchange, ar.result());
                onEnqueued.run();
            } else {
                exchange.setException(ar.cause());
            }
        }), callback);
    }

    private static Operation operation(ObjectNode entry) {
        try {
            return Operation.valueOf(entry.path("operation").asText("CHAT"));
        } catch (IllegalArgumentException e) {
            return Operation.CHAT;
        }
    }
}
