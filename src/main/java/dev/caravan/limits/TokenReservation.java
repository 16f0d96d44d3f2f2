package dev.caravan.limits;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.ModelCatalog;
import dev.caravan.config.ModelRoute;
import dev.caravan.openai.Operation;
import dev.caravan.openai.PromptTokens;
import dev.caravan.openai.TokenEstimate;

/**
 * Tokens a request took from its key's token bucket at admission, given back (or charged further) once, when
 * its real usage is known.
 * <p>
 * The reservation is the prompt estimate plus the completion it may produce: {@code max_tokens} (or
 * {@code max_completion_tokens}; without either, {@code defaultCompletion}, 1024 unless configured), lowered to
 * what the model's {@code context-window} leaves after the prompt when the model declares one, times {@code n};
 * the completion part never above {@code ceiling} (TOKEN_RESERVATION_MAX), so a client's {@code max_tokens} of
 * 2^31-1 cannot run its key into a debt of weeks. Real usage is settled afterwards either way. Embeddings
 * reserve their input only.
 */
public final class TokenReservation {

    /** What a request may cost: its prompt (an estimate) and, with the completion it may produce, the total. */
    public record Estimate(long prompt, long total) {
    }

    /** Names this process's holds apart from every other instance's in a shared store. */
    private static final String INSTANCE = Long.toHexString(new SecureRandom().nextLong());
    private static final AtomicLong SEQUENCE = new AtomicLong();

    private final Limits limits;
    private final Estimate estimate;
    private final String id;
    private final AtomicBoolean settled = new AtomicBoolean();

    public TokenReservation(Limits limits, Estimate estimate) {
        this.limits = limits;
        this.estimate = estimate;
        this.id = INSTANCE + "-" + Long.toHexString(SEQUENCE.incrementAndGet());
    }

    /** Unique across instances and restarts: the name of its hold in the bucket store. */
    public String id() {
        return id;
    }

    public Limits limits() {
        return limits;
    }

    public long reserved() {
        return estimate.total();
    }

    public long prompt() {
        return estimate.prompt();
    }

    /** True for the one caller that settles it; everyone after gets false. */
    public boolean claim() {
        return settled.compareAndSet(false, true);
    }

    public boolean settled() {
        return settled.get();
    }

    public static Estimate estimate(ObjectNode request, Operation operation, ModelCatalog catalog,
                                    long defaultCompletion, long ceiling) {
        if (operation == Operation.EMBEDDINGS) {
            long input = Math.max(1, inputTokens(request.get("input")));
            return new Estimate(input, input);
        }
        long prompt = PromptTokens.estimate(request);
        long completion = positive(request.get("max_tokens"));
        if (completion <= 0) {
            completion = positive(request.get("max_completion_tokens"));
        }
        if (completion <= 0) {
            completion = defaultCompletion;
        }
        Integer window = catalog == null ? null : catalog.resolve(request.path("model").asText())
                .map(ModelRoute::config).map(c -> c.contextWindow()).orElse(null);
        if (window != null && window > prompt) {
            completion = Math.min(completion, window - prompt);
        }
        long cap = Math.max(1, ceiling);
        completion = Math.min(completion, cap);
        long n = Math.min(Math.max(1, positive(request.get("n"))), cap); // n of 2^31 must not overflow either
        return new Estimate(prompt, Math.max(1, prompt + Math.min(completion * n, cap)));
    }

    private static long positive(JsonNode value) {
        return value != null && value.canConvertToLong() ? Math.max(0, value.asLong()) : 0;
    }

    private static long inputTokens(JsonNode input) {
        if (input == null || input.isNull()) {
            return 0;
        }
        if (input.isTextual()) {
            return TokenEstimate.of(input.asText());
        }
        long tokens = 0;
        for (JsonNode item : input) {
            if (item.isNumber()) {
                tokens++; // a pre-tokenized input: one token each
            } else if (item.isArray()) {
                tokens += item.size();
            } else {
                tokens += TokenEstimate.of(item.asText());
            }
        }
        return tokens;
    }
}
