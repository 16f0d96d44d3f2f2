package dev.caravan.tasks;

import java.net.URI;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.exchange.RequestBody;
import dev.caravan.exchange.ReplyHeaders;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Operation;
import dev.caravan.outbound.DestinationCheck;
import dev.caravan.outbound.RefusedDestination;
import io.vertx.core.Future;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * Last step of POST /tasks/enqueue, once the request passed the same checks as a chat request (pre-hooks, model
 * lookup): takes it as a task and answers 202 {@code {"id":"task_…","status":"queued"}} at once. The task runs
 * later, without a stream; its optional {@code callback_url} (http or https) receives the finished task, if
 * CALLBACK_ALLOWED_HOSTS lets the gateway call it (checked here, so a refused one is a 400 now, and again when sent).
 */
final class TaskEnqueue extends AsyncProcessorSupport {

    private final TaskStore store;
    private final Runnable onEnqueued;
    private final DestinationCheck destinations;

    /** @param onEnqueued told after each task is queued (Redis: this instance's claimer looks at once) */
    TaskEnqueue(TaskStore store, Runnable onEnqueued, DestinationCheck destinations) {
        this.store = store;
        this.onEnqueued = onEnqueued;
        this.destinations = destinations;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        Task task;
        try {
            ObjectNode request = RequestBody.of(exchange);
            Object operation = exchange.getProperty(ExchangeKeys.OPERATION);
            task = newTask(TaskOwner.of(exchange), operation instanceof Operation op ? op : Operation.CHAT, request);
        } catch (RuntimeException e) {
            exchange.setException(e);
            callback.done(true);
            return true;
        }
        return AsyncSteps.completeWhen(callbackAllowed(task).compose(v -> store.enqueue(task)).andThen(ar -> {
            if (ar.succeeded()) {
                accepted(exchange, task);
                onEnqueued.run();
            } else {
                exchange.setException(ar.cause());
            }
        }), callback);
    }

    /** Succeeds when the task has no callback_url or the gateway may call it; else a 400 naming callback_url. */
    private Future<Void> callbackAllowed(Task task) {
        if (task.callbackUrl() == null) {
            return Future.succeededFuture();
        }
        return destinations.check(URI.create(task.callbackUrl())).transform(ar -> ar.succeeded()
                ? Future.succeededFuture()
                : Future.failedFuture(ar.cause() instanceof RefusedDestination refused
                        ? OpenAiError.invalidRequest("callback_url", "'callback_url' is refused: "
                                + refused.getMessage())
                        : ar.cause()));
    }

    /** A task of this request: callback_url taken out (and checked), never a stream. */
    static Task newTask(TaskOwner owner, Operation operation, ObjectNode request) {
        ObjectNode copy = request.deepCopy();
        String callbackUrl = callbackUrl(copy.remove("callback_url"));
        if (operation != Operation.EMBEDDINGS) {
            copy.put("stream", false);
            copy.remove("stream_options"); // OpenAI refuses stream_options without a stream
        }
        return new Task(Task.newId("task_"), owner.id(), owner.name(), operation, copy, callbackUrl,
                System.currentTimeMillis() / 1000);
    }

    static void accepted(Exchange exchange, Task task) {
        ObjectNode body = Json.object();
        body.put("id", task.id());
        body.put("object", "task");
        body.put("status", TaskState.QUEUED);
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 202);
        ReplyHeaders.set(exchange, "location", "/tasks/" + task.id());
        exchange.getMessage().setBody(body);
    }

    private static String callbackUrl(JsonNode value) {
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw OpenAiError.invalidRequest("callback_url", "'callback_url' must be a string (an http or https URL)");
        }
        try {
            URI uri = URI.create(value.asText().trim());
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if ((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null) {
                return uri.toString();
            }
        } catch (IllegalArgumentException e) {
            // fall through to the error
        }
        throw OpenAiError.invalidRequest("callback_url", "'callback_url' must be an absolute http or https URL");
    }
}
