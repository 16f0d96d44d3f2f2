package dev.caravan.hooks;

import java.util.List;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.api.ExchangeKeys;
import dev.caravan.config.KeyConfig;
import dev.caravan.openai.OpenAiError;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Router step "model-access", right after the model is resolved (so an unknown model is a 404 first): the model
 * id the client sent must match one of the key's {@code models} globs, else 403 model_not_allowed. A glob is an
 * exact id, or has {@code *} (any run of characters, slashes included) and {@code ?} (one character):
 * {@code *}, {@code llama*}, {@code ollama/*}. A key without {@code models} may use every model; with
 * {@code models: []}, none. Without auth there is no key and nothing to check.
 */
public final class ModelAccess implements Processor {

    @Override
    public void process(Exchange exchange) {
        KeyConfig key = exchange.getProperty(ExchangeKeys.KEY, KeyConfig.class);
        if (key == null || key.models() == null) {
            return;
        }
        ObjectNode request = exchange.getProperty(ExchangeKeys.REQUEST, ObjectNode.class);
        String model = request == null ? "" : request.path("model").asText();
        if (!allowed(key.models(), model)) {
            throw new OpenAiError(403, "invalid_request_error", "model_not_allowed", "model",
                    "The model '" + model + "' is not allowed for this API key.");
        }
    }

    static boolean allowed(List<String> globs, String model) {
        for (String glob : globs) {
            if (glob != null && matches(glob, model)) {
                return true;
            }
        }
        return false;
    }

    /** Wildcard match, linear with backtracking to the last star (no regex: globs come from operators). */
    static boolean matches(String glob, String text) {
        int g = 0;
        int t = 0;
        int star = -1;
        int resume = 0;
        while (t < text.length()) {
            if (g < glob.length() && (glob.charAt(g) == '?' || glob.charAt(g) == text.charAt(t))) {
                g++;
                t++;
            } else if (g < glob.length() && glob.charAt(g) == '*') {
                star = g++;
                resume = t;
            } else if (star >= 0) {
                g = star + 1;
                t = ++resume;
            } else {
                return false;
            }
        }
        while (g < glob.length() && glob.charAt(g) == '*') {
            g++;
        }
        return g == glob.length();
    }
}
