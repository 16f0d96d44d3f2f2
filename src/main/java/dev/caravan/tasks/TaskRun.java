package dev.caravan.tasks;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.config.KeyConfig;
import dev.caravan.config.Priority;
import dev.caravan.exchange.Cancellation;
import dev.caravan.exchange.ErrorMapping;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import org.apache.camel.AsyncCallback;
import org.apache.camel.AsyncProducer;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePattern;
import org.apache.camel.support.AsyncProcessorSupport;
import org.apache.camel.support.DefaultExchange;
import org.apache.camel.support.service.ServiceHelper;

/**
 * Step of the tasks-worker route: runs one attempt of the task through the same pipeline as a chat request
 * (direct:pipeline: pre-hooks, mid-hooks, router, the backend's lane, post-hooks) as a new exchange at low
 * priority, under the key that enqueued it, as JSON (never a stream). The attempt's outcome (completion or error,
 * and the backend) is left on the worker exchange for the settle step. Nothing waits: the pipeline exchange runs
 * on a Vert.x event loop, like an HTTP request, and completes this step when it ends.
 */
final class TaskRun extends AsyncProcessorSupport {

    /** Worker exchange property: the {@link TaskStore.Claim} being run. */
    static final String CLAIM = "CaravanTaskClaim";
    /** Worker exchange property: the attempt's {@link Outcome}. */
    static final String OUTCOME = "CaravanTaskOutcome";
    /** Pipeline exchange property: the id of the task the exchange runs. */
    static final String TASK_ID = "CaravanTaskId";

    /** The reason running attempts are cancelled when the gateway stops; with Redis the task runs again elsewhere. */
    static final OpenAiError STOPPING = new OpenAiError(503, "server_error", "gateway_stopping", null,
            "The gateway stopped while the task ran", 1, null);

    private final CamelContext camel;
    private final Vertx vertx;
    private final TaskStore store;
    private final TaskSettings settings;
    private final Set<Cancellation> running = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;
    private AsyncProducer pipeline;

    TaskRun(CamelContext camel, Vertx vertx, TaskStore store, TaskSettings settings) {
        this.camel = camel;
        this.vertx = vertx;
        this.store = store;
        this.settings = settings;
    }

    /** What an attempt ended with: a result, or an error; and the backend that served it, if one was chosen. */
    record Outcome(JsonNode result, OpenAiError error, String backend) {
        boolean ok() {
            return error == null;
        }
    }

    @Override
    public boolean process(Exchange worker, AsyncCallback callback) {
        Future<Outcome> attempt = store.start(worker.getMessage().getBody()).compose(claim -> {
            worker.setProperty(CLAIM, claim);
            if (stopping) {
                return Future.succeededFuture(new Outcome(null, STOPPING, null)); // given back, not started
            }
            if (claim.attempt() > settings.maxAttempts()) {
                // started that often without an outcome: each time the instance running it died
                return Future.succeededFuture(new Outcome(null, new OpenAiError(500, "server_error",
                        "task_abandoned", null, "The task was started " + (claim.attempt() - 1)
                        + " times and each time the instance running it stopped before it finished"), null));
            }
            return run(claim);
        });
        return AsyncSteps.completeWhen(attempt.andThen(ar -> {
            if (ar.succeeded()) {
                worker.setProperty(OUTCOME, ar.result());
            } else {
                worker.setException(ar.cause());
            }
        }), callback);
    }

    /** Cancels every running attempt and starts no other: the gateway is stopping (with Redis: they run elsewhere). */
    void cancelAll() {
        stopping = true;
        running.forEach(c -> c.cancel(STOPPING));
    }

    /** Starts no other attempt; the running ones go on (in memory, where no other instance could take them over). */
    void startNoMore() {
        stopping = true;
    }

    private Future<Outcome> run(TaskStore.Claim claim) {
        Task task = claim.task();
        KeyConfig key = new TaskOwner(task.ownerId(), task.keyName()).key(camel);
        if (key == null && !TaskOwner.ANONYMOUS.id().equals(task.ownerId()) && TaskOwner.authOn(camel)) {
            return Future.succeededFuture(new Outcome(null, new OpenAiError(401, "invalid_request_error",
                    "invalid_api_key", null, "The API key that enqueued this task is no longer configured"), null));
        }
        Exchange exchange = new DefaultExchange(camel, ExchangePattern.InOut);
        exchange.setProperty(ExchangeKeys.RECEIVED_NANOS, System.nanoTime());
        exchange.setProperty(ExchangeKeys.OPERATION, task.operation());
        exchange.setProperty(ExchangeKeys.PRIORITY, Priority.LOW);
        if (key != null) {
            exchange.setProperty(ExchangeKeys.KEY, key); // the auth step trusts a key the gateway set itself
        }
        // the request was counted in its key's bucket when the task was accepted (also the anonymous one, auth off)
        exchange.setProperty(dev.caravan.hooks.RateLimit.REQUEST_COUNTED, true);
        exchange.setProperty(TASK_ID, task.id());
        exchange.setProperty(DeadLetterRecord.NO_DEAD_LETTER, true); // the settle step records exhausted tasks once
        Cancellation cancellation = new Cancellation();
        exchange.setProperty(ExchangeKeys.CANCELLATION, cancellation);
        exchange.getMessage().setHeader("Content-Type", "application/json");
        exchange.getMessage().setHeader("x-request-id", task.id() + "-" + claim.attempt());
        exchange.getMessage().setHeader("x-priority", "low");
        exchange.getMessage().setBody(Json.bytes(task.request()));

        Promise<Outcome> outcome = Promise.promise();
        running.add(cancellation);
        if (stopping) {
            cancellation.cancel(STOPPING); // the gateway began to stop since this attempt was taken
        }
        long timer = vertx.setTimer(settings.timeoutSeconds() * 1000, id -> cancellation.cancel(OpenAiError.deadline(
                "The task's attempt did not finish within " + settings.timeoutSeconds() + " s")));
        // on an event loop, as an HTTP request would be: the pipeline's steps expect a Vert.x context
        vertx.getOrCreateContext().runOnContext(v -> {
            try {
                pipeline().process(exchange, doneSync -> {
                    vertx.cancelTimer(timer);
                    running.remove(cancellation);
                    outcome.complete(outcomeOf(exchange));
                });
            } catch (Exception e) {
                vertx.cancelTimer(timer);
                running.remove(cancellation);
                outcome.complete(new Outcome(null, ErrorMapping.toOpenAiError(e, exchange), null));
            }
        });
        return outcome.future();
    }

    private static Outcome outcomeOf(Exchange exchange) {
        String backend = exchange.getProperty(ExchangeKeys.BACKEND, String.class);
        if (exchange.getException() != null) {
            return new Outcome(null, ErrorMapping.toOpenAiError(exchange.getException(), exchange), backend);
        }
        OpenAiError error = exchange.getProperty(ExchangeKeys.ERROR, OpenAiError.class);
        if (error != null) {
            return new Outcome(null, error, backend); // failed, and handled by the dead-letter route
        }
        try {
            return new Outcome(json(exchange.getMessage().getBody()), null, backend);
        } catch (RuntimeException e) {
            return new Outcome(null, OpenAiError.upstream("The task's reply could not be read", e), backend);
        }
    }

    private static JsonNode json(Object body) {
        if (body instanceof JsonNode node) {
            return node;
        }
        try {
            if (body instanceof Buffer buffer) {
                return Json.MAPPER.readTree(buffer.getBytes());
            }
            if (body instanceof byte[] bytes) {
                return Json.MAPPER.readTree(bytes);
            }
            return Json.MAPPER.readTree(String.valueOf(body));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("The reply is not JSON", e);
        }
    }

    private synchronized AsyncProducer pipeline() throws Exception {
        if (pipeline == null) {
            AsyncProducer created = camel.getEndpoint("direct:pipeline").createAsyncProducer();
            ServiceHelper.startService(created);
            pipeline = created;
        }
        return pipeline;
    }

    @Override
    protected synchronized void doStop() {
        ServiceHelper.stopService(pipeline);
        pipeline = null; // made again on next use (a route reload stops the steps of the routes it replaces)
    }
}
