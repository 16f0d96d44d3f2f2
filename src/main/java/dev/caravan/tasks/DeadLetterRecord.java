package dev.caravan.tasks;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.ModelRoute;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Operation;
import dev.caravan.openai.SecretText;
import io.vertx.core.buffer.Buffer;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step of the dead-letter route, after the error reply: keeps a model request that failed for an upstream-class
 * reason (5xx: upstream error, overload, deadline; after the retries and fallbacks that ran before) in the DLQ.
 * Client errors (4xx, 401/403/429), a client that left, and failures of requests that say
 * {@link #NO_DEAD_LETTER} (task attempts, which the task worker records once they are exhausted; task
 * submissions, which the caller retries) are not kept. The error reply is already set: a DLQ that fails is logged,
 * it never changes what the client gets.
 */
public final class DeadLetterRecord extends AsyncProcessorSupport {

    /** Exchange property: true when a failure of this exchange is not a dead letter. */
    public static final String NO_DEAD_LETTER = "CaravanNoDeadLetter";

    /** Entry fields of a replay: when (epoch seconds) and into which task; absent (listed as null) before one. */
    public static final String REPLAYED_AT = "replayed_at";
    public static final String REPLAY_TASK_ID = "replay_task_id";

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterRecord.class);

    private final DeadLetterStore store;

    DeadLetterRecord(DeadLetterStore store) {
        this.store = store;
    }

    /** A failure worth keeping: the upstream side failed (5xx) and a later try may succeed. 501 never will. */
    static boolean upstreamClass(OpenAiError error) {
        return error.status() >= 500 && error.status() != 501;
    }

    /** A 503 while the gateway starts or a route reloads: like a 4xx refusal, no work was accepted to keep. */
    static boolean neverAccepted(OpenAiError error) {
        return OpenAiError.NOT_READY.equals(error.code());
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        OpenAiError error = exchange.getProperty(ExchangeKeys.ERROR, OpenAiError.class);
        ObjectNode request = clientRequest(exchange);
        if (error == null || request == null || !upstreamClass(error) || neverAccepted(error)
                || Boolean.TRUE.equals(exchange.getProperty(NO_DEAD_LETTER, Boolean.class))) {
            callback.done(true);
            return true;
        }
        ModelRoute route = exchange.getProperty(ExchangeKeys.MODEL_ROUTE, ModelRoute.class);
        Integer attempts = exchange.getProperty(ExchangeKeys.ATTEMPTS, Integer.class);
        Object operation = exchange.getProperty(ExchangeKeys.OPERATION);
        ObjectNode entry = entry(TaskOwner.of(exchange),
                operation instanceof Operation op ? op : Operation.CHAT, request,
                // the model the client asked for (a fallback may have been the last one tried)
                request.path("model").asText(route != null ? route.model() : null),
                exchange.getProperty(ExchangeKeys.BACKEND, String.class), error, attempts == null ? 1 : attempts);
        return AsyncSteps.completeWhen(store.add(entry).onFailure(failure -> LOG.warn(
                "Request {} failed ({}) and could not be kept in the dead-letter queue: {}",
                exchange.getProperty(ExchangeKeys.REQUEST_ID), error.code(), failure.toString())), callback);
    }

    /** The request as the client sent it (a replay runs the hooks again), or null when none was read yet. */
    private static ObjectNode clientRequest(Exchange exchange) {
        Object sent = exchange.getProperty(ExchangeKeys.CLIENT_REQUEST);
        if (sent == null) {
            return null;
        }
        try {
            byte[] bytes = sent instanceof Buffer buffer ? buffer.getBytes() : sent instanceof byte[] raw ? raw
                    : String.valueOf(sent).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            return Json.MAPPER.readTree(bytes) instanceof ObjectNode request ? request : null;
        } catch (java.io.IOException e) {
            return null; // the validate step parsed these very bytes: cannot happen
        }
    }

    /**
     * A DLQ entry: {@code id, created, key_name, model, backend, error, attempts, request} as listed, plus the
     * owner's id and the operation, which a replay needs and the listing leaves out.
     */
    static ObjectNode entry(TaskOwner owner, Operation operation, ObjectNode request, String model, String backend,
                            OpenAiError error, int attempts) {
        ObjectNode entry = Json.object();
        entry.put("id", Task.newId("dlq_"));
        entry.put("created", System.currentTimeMillis() / 1000);
        entry.put("key_name", owner.name());
        entry.put("model", model);
        entry.put("backend", backend);
        ObjectNode errorObject = (ObjectNode) error.toJson().get("error");
        // whatever made the message (an upstream's words, an exception), the DLQ may sit in a shared Redis
        errorObject.put("message", SecretText.scrub(errorObject.path("message").asText()));
        entry.set("error", errorObject);
        entry.put("attempts", attempts);
        entry.set("request", RequestSecrets.scrub(request));
        entry.put("owner", owner.id());
        entry.put("operation", operation.name());
        return entry;
    }
}
