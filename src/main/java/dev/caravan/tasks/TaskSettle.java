package dev.caravan.tasks;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.Future;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Last step of the tasks-worker route: records the attempt's outcome. Done → the completion is kept. An
 * upstream-class failure (5xx, or 429) with attempts left → queued again after a pause (gateway.task-retry-backoff-ms
 * times the attempt, or the error's retry-after if longer). Otherwise failed, and
 * kept in the DLQ when the failure was upstream-class; then the final task object goes to its callback_url.
 * <p>
 * With Redis, a store that fails here leaves the task's lease to run out: another attempt, never a lost task.
 */
final class TaskSettle extends AsyncProcessorSupport {

    private static final Logger LOG = LoggerFactory.getLogger(TaskSettle.class);
    private static final long MAX_BACKOFF_MILLIS = 30_000;

    private final TaskStore store;
    private final DeadLetterStore deadLetters;
    private final TaskCallbacks callbacks;
    private final TaskSettings settings;
    private volatile boolean stopping;

    TaskSettle(TaskStore store, DeadLetterStore deadLetters, TaskCallbacks callbacks,
               TaskSettings settings) {
        this.store = store;
        this.deadLetters = deadLetters;
        this.callbacks = callbacks;
        this.settings = settings;
    }

    void stopping() {
        stopping = true;
    }

    @Override
    public boolean process(Exchange worker, AsyncCallback callback) {
        TaskStore.Claim claim = worker.getProperty(TaskRun.CLAIM, TaskStore.Claim.class);
        TaskRun.Outcome outcome = worker.getProperty(TaskRun.OUTCOME, TaskRun.Outcome.class);
        Future<Void> settled;
        try {
            settled = settle(claim, outcome);
        } catch (RuntimeException e) {
            settled = Future.failedFuture(e);
        }
        return AsyncSteps.completeWhen(settled.onFailure(failure -> LOG.warn(
                "The outcome of task {} could not be recorded{}: {}", claim.task().id(),
                store.kind().equals("redis") ? " (its lease runs out and it runs again)" : "",
                failure.toString())), callback);
    }

    private Future<Void> settle(TaskStore.Claim claim, TaskRun.Outcome outcome) {
        Task task = claim.task();
        if (outcome.ok()) {
            return store.finish(task, TaskState.DONE, outcome.result(), null)
                    .onSuccess(v -> notify(new TaskState(task, TaskState.DONE, claim.attempt(), outcome.result(), null)));
        }
        OpenAiError error = outcome.error();
        JsonNode errorJson = error.toJson().get("error");
        if (error == TaskRun.STOPPING) {
            if (store.kind().equals("redis")) {
                // the gateway stops: give the task back at once, another instance takes it
                return store.retry(task, errorJson, 0);
            }
            // in memory nothing outlives this instance: the task fails (its callback says so) instead of being
            // queued again, and again, to an instance that starts nothing any more
            LOG.warn("Task {} fails: the gateway stops before it could run (tasks survive a stop with REDIS_URL)",
                    task.id());
            return store.finish(task, TaskState.FAILED, null, errorJson)
                    .onSuccess(v -> notify(new TaskState(task, TaskState.FAILED, claim.attempt(), null, errorJson)));
        }
        boolean retryable = DeadLetterRecord.upstreamClass(error) || error.status() == 429;
        if (retryable && claim.attempt() < settings.maxAttempts()) {
            LOG.info("Task {} attempt {} failed ({} {}); it runs again", task.id(), claim.attempt(), error.status(),
                    error.code());
            // the pause is spent queued, not holding a worker slot
            return store.retry(task, errorJson, stopping ? 0 : backoffMillis(claim.attempt(), error))
                    .recover(failure -> fail(claim, outcome, errorJson)); // could not queue it again: it fails
        }
        return fail(claim, outcome, errorJson);
    }

    private Future<Void> fail(TaskStore.Claim claim, TaskRun.Outcome outcome, JsonNode errorJson) {
        Task task = claim.task();
        OpenAiError error = outcome.error();
        LOG.info("Task {} failed after {} attempt(s): {} {}", task.id(), claim.attempt(), error.status(), error.code());
        // the DLQ first: whoever sees the task failed finds its dead letter already there
        Future<Void> kept = DeadLetterRecord.upstreamClass(error)
                ? deadLetters.add(DeadLetterRecord.entry(new TaskOwner(task.ownerId(), task.keyName()),
                        task.operation(), withCallback(task), task.model(), outcome.backend(), error, claim.attempt()))
                : Future.succeededFuture();
        return kept.recover(failure -> {
                    LOG.warn("Task {} failed and could not be kept in the dead-letter queue: {}", task.id(),
                            failure.toString());
                    return Future.succeededFuture();
                })
                .compose(v -> store.finish(task, TaskState.FAILED, null, errorJson))
                .onSuccess(v -> notify(new TaskState(task, TaskState.FAILED, claim.attempt(), null, errorJson)));
    }

    /** The request as a replay would need it: with its callback_url (scrubbed later if it carries credentials). */
    private static com.fasterxml.jackson.databind.node.ObjectNode withCallback(Task task) {
        com.fasterxml.jackson.databind.node.ObjectNode request = task.request().deepCopy();
        if (task.callbackUrl() != null) {
            request.put("callback_url", task.callbackUrl());
        }
        return request;
    }

    private void notify(TaskState state) {
        String url = state.task().callbackUrl();
        if (url != null) {
            callbacks.post(url, state.view()); // not waited for: a slow receiver does not hold a worker slot
        }
    }

    private long backoffMillis(int attempt, OpenAiError error) {
        long backoff = Math.min(MAX_BACKOFF_MILLIS, settings.retryBackoffMillis() * attempt);
        return Math.max(backoff, Math.min(MAX_BACKOFF_MILLIS, error.retryAfterSeconds() * 1000));
    }
}
