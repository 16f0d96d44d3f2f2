package dev.caravan.tasks;

import dev.caravan.openai.OpenAiError;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * GET /tasks/{id}: {@code {"id","status","result","error"}}. A key sees only its own tasks: any other id, or an
 * expired one, is a 404, so ids of other keys' tasks cannot be probed.
 */
final class TaskStatus extends AsyncProcessorSupport {

    private final TaskStore store;

    TaskStatus(TaskStore store) {
        this.store = store;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        String id = exchange.getMessage().getHeader("id", String.class);
        TaskOwner caller = TaskOwner.of(exchange);
        return AsyncSteps.completeWhen(store.find(id == null ? "" : id).andThen(ar -> {
            if (ar.failed()) {
                exchange.setException(new OpenAiError(503, "server_error", "task_store_unavailable", null,
                        "The task store cannot be reached right now; try again later", 2, ar.cause()));
            } else if (ar.result() == null || !ar.result().task().ownerId().equals(caller.id())) {
                exchange.setException(notFound(id));
            } else {
                exchange.getMessage().setBody(ar.result().view());
            }
        }), callback);
    }

    static OpenAiError notFound(String id) {
        return new OpenAiError(404, "invalid_request_error", "task_not_found", "id", "No task with id " + OpenAiError.echo(id));
    }
}
