package dev.caravan.steps;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The set-params hook step (kamelet set-params-action): model rewrites (the id the client sent → another id, before
 * the router resolves it), defaults for parameters the request leaves out, and ceilings for numeric parameters it
 * sets too high. max_tokens and max_completion_tokens are one budget: a default for either is not added when the
 * request names the other, and a ceiling on either caps both.
 */
public final class SetParams implements Processor {

    private static final String MAX_TOKENS = "max_tokens";
    private static final String MAX_COMPLETION_TOKENS = "max_completion_tokens";

    private Map<String, JsonNode> defaults = Map.of();
    private Map<String, Double> ceilings = Map.of();
    private Map<String, String> models = Map.of();

    @Override
    public void process(Exchange exchange) {
        ObjectNode request = StepBody.request(exchange);
        if (!models.isEmpty()) {
            String to = models.get(request.path("model").asText());
            if (to != null) {
                request.put("model", to);
            }
        }
        for (Map.Entry<String, JsonNode> d : defaults.entrySet()) {
            String name = d.getKey();
            if (request.hasNonNull(name) || (MAX_TOKENS.equals(name) && request.hasNonNull(MAX_COMPLETION_TOKENS))
                    || (MAX_COMPLETION_TOKENS.equals(name) && request.hasNonNull(MAX_TOKENS))) {
                continue;
            }
            request.set(name, d.getValue().deepCopy());
        }
        for (Map.Entry<String, Double> c : ceilings.entrySet()) {
            cap(request, c.getKey(), c.getValue());
            if (MAX_TOKENS.equals(c.getKey())) {
                cap(request, MAX_COMPLETION_TOKENS, c.getValue());
            } else if (MAX_COMPLETION_TOKENS.equals(c.getKey())) {
                cap(request, MAX_TOKENS, c.getValue());
            }
        }
    }

    private static void cap(ObjectNode request, String name, double ceiling) {
        JsonNode value = request.get(name);
        if (value != null && value.isNumber() && value.asDouble() > ceiling) {
            if (value.isIntegralNumber() && ceiling == Math.rint(ceiling)) {
                request.put(name, (long) ceiling);
            } else {
                request.put(name, ceiling);
            }
        }
    }

    /** "temperature=0.7, max_tokens=1024, user=gateway": each value read as JSON (a number, true/false) or text. */
    public void setDefaults(String defaults) {
        Map<String, JsonNode> parsed = new LinkedHashMap<>();
        ParamList.parse(defaults, "set-params defaults").forEach((name, value) -> parsed.put(name, scalar(value)));
        this.defaults = parsed;
    }

    /** "max_tokens=4096, temperature=1.2": numbers only. */
    public void setCeilings(String ceilings) {
        Map<String, Double> parsed = new LinkedHashMap<>();
        ParamList.parse(ceilings, "set-params ceilings").forEach((name, value) -> {
            try {
                parsed.put(name, Double.parseDouble(value));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("set-params ceilings: " + name + "=" + value + " is not a number");
            }
        });
        this.ceilings = parsed;
    }

    /** "gpt-4=gpt-4o-mini, llama=llama3.2": the model id the client sent → the id the request goes on with. */
    public void setModels(String models) {
        this.models = ParamList.parse(models, "set-params models");
    }

    private static JsonNode scalar(String value) {
        try {
            JsonNode node = Json.MAPPER.readTree(value);
            if (node != null && node.isValueNode()) {
                return node;
            }
        } catch (Exception notJson) {
            // plain text
        }
        return Json.MAPPER.getNodeFactory().textNode(value);
    }
}
