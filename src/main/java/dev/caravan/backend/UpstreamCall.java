package dev.caravan.backend;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.BackendConfig;
import dev.caravan.config.ModelRoute;
import dev.caravan.exchange.Cancellation;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Operation;

/**
 * One call to an upstream: the client's OpenAI request (already validated; never modified by an adapter), where
 * it goes, and the cancellation that aborts it (client gone, deadline passed).
 */
public record UpstreamCall(
        Operation operation,
        ObjectNode request,
        ModelRoute route,
        String requestId,
        Cancellation cancellation) {

    public BackendConfig backend() {
        return route.backend();
    }

    public String upstreamModel() {
        return route.upstreamModel();
    }

    public long timeoutMillis() {
        return route.backend().timeoutSeconds() * 1000L;
    }

    /** Why this call failed: the cancellation's own reason (deadline: 504) beats the bare reset it caused. */
    public OpenAiError failure(Throwable surfaced) {
        Throwable reason = cancellation.reason();
        return UpstreamErrors.ofFailure(reason != null ? reason : surfaced);
    }
}
