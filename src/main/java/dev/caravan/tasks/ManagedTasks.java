package dev.caravan.tasks;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.caravan.openai.OpenAiError;
import io.vertx.core.Context;
import io.vertx.core.Future;
import org.apache.camel.api.management.ManagedAttribute;
import org.apache.camel.api.management.ManagedOperation;
import org.apache.camel.api.management.ManagedResource;

/**
 * The task queue and the dead-letter queue in JMX ({@code org.apache.camel:context=…,type=gateway,name="tasks"}):
 * tasks queued and running (with Redis: of every instance), the DLQ's size, and the replay of a DLQ entry, which
 * takes the same path as POST /tasks/dlq/{id}/replay.
 */
@ManagedResource(description = "Caravan background tasks and dead-letter queue")
public final class ManagedTasks {

    static final String TYPE = "gateway";
    static final String NAME = "tasks";
    /** Longest a JMX read waits for the store (Redis has its own, shorter, timeout). */
    private static final long WAIT_SECONDS = 10;

    private final TaskStore store;
    private final DeadLetterStore deadLetters;
    private final DeadLetterReplay replay;

    ManagedTasks(TaskStore store, DeadLetterStore deadLetters, DeadLetterReplay replay) {
        this.store = store;
        this.deadLetters = deadLetters;
        this.replay = replay;
    }

    @ManagedAttribute(description = "Where tasks and dead letters are kept: memory or redis")
    public String getStore() {
        return store.kind();
    }

    @ManagedAttribute(description = "Tasks waiting to run (or for their next attempt)")
    public long getQueued() {
        return await(store.counts()).queued();
    }

    @ManagedAttribute(description = "Tasks running now")
    public long getRunning() {
        return await(store.counts()).running();
    }

    @ManagedAttribute(description = "Entries in the dead-letter queue")
    public int getDeadLetters() {
        return await(deadLetters.size());
    }

    @ManagedOperation(description = "Runs a dead letter's request again as a new task of the key that sent it (as "
            + "POST /tasks/dlq/{id}/replay); refused when it was replayed before. Returns the new task's id")
    public String replayDeadLetter(String id) {
        return replay(id, false);
    }

    @ManagedOperation(description = "Runs a dead letter's request again even when it was replayed before (as "
            + "POST /tasks/dlq/{id}/replay?force=true). Returns the new task's id")
    public String forceReplayDeadLetter(String id) {
        return replay(id, true);
    }

    private String replay(String id, boolean force) {
        String valid = DeadLetterDelete.entryId(id == null ? null : id.trim());
        OpenAiError notFound = new OpenAiError(404, "invalid_request_error", "dlq_entry_not_found", "id",
                "No dead letter with id " + OpenAiError.echo(id));
        if (valid == null) {
            throw new IllegalArgumentException(notFound.getMessage());
        }
        return await(replay.replay(valid, force, () -> notFound)).id();
    }

    /**
     * JMX calls come on threads of their own, which may wait; an event loop (a JMX bridge served by Vert.x) may not,
     * so there only a result that is ready is given.
     */
    private static <T> T await(Future<T> future) {
        if (!future.isComplete() && Context.isOnEventLoopThread()) {
            throw new IllegalStateException("Not available on an event-loop thread; ask again from a JMX client");
        }
        try {
            return future.toCompletionStage().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            // the message only (an OpenAiError says what went wrong); a remote client may lack our classes
            throw new IllegalStateException(e.getCause().getMessage());
        } catch (TimeoutException e) {
            throw new IllegalStateException("The task store did not answer within " + WAIT_SECONDS + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted");
        }
    }
}
