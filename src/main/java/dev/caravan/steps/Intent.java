package dev.caravan.steps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.exchange.ExchangeKeys;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The intent hook step (kamelet intent-action): classifies the request by keyword and regex rules ({@link
 * IntentRules}) and puts the label on the exchange ({@link ExchangeKeys#INTENT}), where a {@code choice} can route
 * on it and the request metrics and access log pick it up. The text classified is the last user message (scope
 * last-user, the default: what the user asks now) or all user messages (scope all-user); for a legacy completion,
 * the prompt. No rule matching: the default label.
 */
public final class Intent implements Processor {

    private IntentRules rules = IntentRules.parse("");
    private String defaultLabel = "none";
    private boolean allUserMessages;

    @Override
    public void process(Exchange exchange) {
        String label = rules.classify(text(StepBody.request(exchange), allUserMessages));
        exchange.setProperty(ExchangeKeys.INTENT, label == null ? defaultLabel : label);
    }

    static String text(ObjectNode request, boolean allUserMessages) {
        JsonNode messages = request.get("messages");
        if (messages == null || !messages.isArray()) {
            return TextFields.contentText(request.get("prompt"));
        }
        StringBuilder text = new StringBuilder();
        for (int i = messages.size() - 1; i >= 0; i--) {
            JsonNode message = messages.get(i);
            if ("user".equals(message.path("role").asText())) {
                if (!text.isEmpty()) {
                    text.append('\n');
                }
                text.append(TextFields.contentText(message.get("content")));
                if (!allUserMessages) {
                    break;
                }
            }
        }
        return text.toString();
    }

    public void setRules(String rules) {
        this.rules = IntentRules.parse(rules);
    }

    public void setDefaultLabel(String defaultLabel) {
        this.defaultLabel = defaultLabel == null || defaultLabel.isBlank() ? "none" : defaultLabel.trim();
    }

    /** last-user (default) or all-user. */
    public void setScope(String scope) {
        switch (scope == null ? "" : scope.trim()) {
            case "", "last-user" -> allUserMessages = false;
            case "all-user" -> allUserMessages = true;
            default -> throw new IllegalArgumentException("intent scope must be last-user or all-user, not " + scope);
        }
    }
}
