package dev.caravan.tasks;

import java.time.Instant;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.exchange.QueryParameters;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Operation;
import io.vertx.core.Future;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * POST /tasks/dlq/{id}/replay: runs a dead letter's request again, as a new background task of the key that sent
 * it, and answers 202 with the task ({@code {"id":"task_…","status":"queued"}}). The entry stays in the DLQ and
 * records the replay ({@code replayed_at}, {@code replay_task_id}); a second replay is 409 unless
 * {@code ?force=true}, so a retried admin call cannot run a request twice by accident.
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
        String id = DeadLetterDelete.entryId(exchange);
        if (id == null) {
            exchange.setException(DeadLetterDelete.notFound(exchange));
            callback.done(true);
            return true;
        }
        boolean force = "true".equalsIgnoreCase(QueryParameters.first(exchange, "force"));
        Future<Task> replayed = replay(id, force, () -> DeadLetterDelete.notFound(exchange));
        return AsyncSteps.completeWhen(replayed.andThen(ar -> {
            if (ar.succeeded()) {
                TaskEnqueue.accepted(exchange, ar.result());
            } else {
                exchange.setException(ar.cause());
            }
        }), callback);
    }

    /**
     * Replays the entry as a new queued task: the one path of POST /tasks/dlq/{id}/replay and of the JMX operation.
     * Fails with {@code notFound} when there is no such entry, with a 409 when it was replayed before (unless
     * {@code force}), with a 503 when the task queue is full.
     */
    Future<Task> replay(String id, boolean force, Supplier<OpenAiError> notFound) {
        // the task id is made first, so the mark (check and set in one step) can name it
        String taskId = Task.newId("task_");
        return deadLetters.markReplayed(id, taskId, System.currentTimeMillis() / 1000, force)
                .compose(mark -> {
                    ObjectNode entry = mark.entry();
                    if (entry == null) {
                        return Future.failedFuture(notFound.get());
                    }
                    if (mark.refused()) {
                        return Future.failedFuture(alreadyReplayed(entry));
                    }
                    Task task = TaskEnqueue.newTask(new TaskOwner(entry.path("owner").asText(TaskOwner.ANONYMOUS.id()),
                                    entry.path("key_name").asText(TaskOwner.ANONYMOUS.name())),
                            operation(entry), (ObjectNode) entry.get("request")).withId(taskId);
                    // a task that could not be queued did not replay the entry: its mark goes again
                    return tasks.enqueue(task).map(task).recover(failure -> deadLetters.unmarkReplayed(id, taskId)
                            .transform(ignored -> Future.failedFuture(failure)));
                })
                .andThen(ar -> {
                    if (ar.succeeded()) {
                        onEnqueued.run();
                    }
                });
    }

    private static OpenAiError alreadyReplayed(ObjectNode entry) {
        return new OpenAiError(409, "invalid_request_error", "dlq_entry_already_replayed", "id",
                "This dead letter was replayed at "
                        + Instant.ofEpochSecond(entry.path(DeadLetterRecord.REPLAYED_AT).asLong()) + " into task "
                        + entry.path(DeadLetterRecord.REPLAY_TASK_ID).asText() + "; add ?force=true to replay it again");
    }

    private static Operation operation(ObjectNode entry) {
        try {
            return Operation.valueOf(entry.path("operation").asText("CHAT"));
        } catch (IllegalArgumentException e) {
            return Operation.CHAT;
        }
    }
}
