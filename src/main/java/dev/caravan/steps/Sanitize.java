package dev.caravan.steps;

import java.util.HashSet;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.OpenAiError;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The sanitize hook step (kamelet sanitize-action): control characters out of every text (tab, newline and
 * carriage return stay), each message and the whole conversation within their size caps in characters, and the
 * roles in an order a model expects: system and developer messages first, a tool message only in answer to a tool
 * call of the assistant message before it, and every tool call answered before the conversation goes on. A
 * request that breaks a rule gets 400 invalid_request_error naming the message in {@code param}.
 */
public final class Sanitize implements Processor {

    private int maxMessageChars = 32_000;
    private int maxTotalChars = 200_000;
    private boolean stripControl = true;
    private boolean checkRoles = true;

    @Override
    public void process(Exchange exchange) {
        ObjectNode request = StepBody.request(exchange);
        if (stripControl) {
            TextFields.rewriteRequest(request, ControlCharacters::strip);
        }
        checkSizes(request);
        if (checkRoles && request.get("messages") != null && request.get("messages").isArray()) {
            checkRoleOrder(request.get("messages"));
        }
    }

    private void checkSizes(ObjectNode request) {
        long total = 0;
        JsonNode messages = request.get("messages");
        if (messages != null && messages.isArray()) {
            for (int i = 0; i < messages.size(); i++) {
                int chars = TextFields.contentText(messages.get(i).get("content")).length();
                if (maxMessageChars > 0 && chars > maxMessageChars) {
                    throw OpenAiError.invalidRequest("messages[" + i + "].content", "'messages[" + i
                            + "].content' has " + chars + " characters; at most " + maxMessageChars + " are allowed");
                }
                total += chars;
            }
        }
        JsonNode prompt = request.get("prompt");
        if (prompt != null) {
            int chars = TextFields.contentText(prompt).length();
            if (maxMessageChars > 0 && chars > maxMessageChars) {
                throw OpenAiError.invalidRequest("prompt",
                        "'prompt' has " + chars + " characters; at most " + maxMessageChars + " are allowed");
            }
            total += chars;
        }
        if (maxTotalChars > 0 && total > maxTotalChars) {
            throw OpenAiError.invalidRequest(messages != null ? "messages" : "prompt", "The conversation has "
                    + total + " characters; at most " + maxTotalChars + " are allowed");
        }
    }

    /** One pass over the roles; see the class comment for the rules. */
    static void checkRoleOrder(JsonNode messages) {
        boolean pastSystem = false;
        Set<String> openCalls = new HashSet<>();
        boolean inToolAnswers = false;
        for (int i = 0; i < messages.size(); i++) {
            JsonNode message = messages.get(i);
            String role = message.path("role").asText();
            String where = "messages[" + i + "].role";
            switch (role) {
                case "system", "developer" -> {
                    if (pastSystem) {
                        throw OpenAiError.invalidRequest(where, "'" + where + "' is " + role
                                + ": system and developer messages must come before all others");
                    }
                }
                case "tool", "function" -> {
                    if (!inToolAnswers) {
                        throw OpenAiError.invalidRequest(where, "'" + where + "' is " + role
                                + ", but the message before it is not an assistant message with tool calls");
                    }
                    String id = message.path("tool_call_id").asText(null);
                    if (id != null && !openCalls.isEmpty() && !openCalls.remove(id)) {
                        throw OpenAiError.invalidRequest("messages[" + i + "].tool_call_id", "'messages[" + i
                                + ".tool_call_id' answers no tool call of the assistant message before it");
                    }
                    pastSystem = true;
                    continue;
                }
                default -> {
                    if (inToolAnswers && !openCalls.isEmpty()) {
                        throw OpenAiError.invalidRequest(where, "'" + where + "' comes before every tool call of"
                                + " the assistant message was answered (missing: " + String.join(", ", openCalls)
                                + ")");
                    }
                    pastSystem = true;
                }
            }
            inToolAnswers = false;
            openCalls.clear();
            if ("assistant".equals(role)) {
                JsonNode calls = message.get("tool_calls");
                if (calls != null && calls.isArray() && !calls.isEmpty()) {
                    inToolAnswers = true;
                    for (JsonNode call : calls) {
                        if (call.path("id").isTextual()) {
                            openCalls.add(call.get("id").asText());
                        }
                    }
                } else if (message.hasNonNull("function_call")) {
                    inToolAnswers = true;
                }
            }
        }
    }

    public void setMaxMessageChars(int maxMessageChars) {
        this.maxMessageChars = maxMessageChars;
    }

    public void setMaxTotalChars(int maxTotalChars) {
        this.maxTotalChars = maxTotalChars;
    }

    public void setStripControl(boolean stripControl) {
        this.stripControl = stripControl;
    }

    public void setCheckRoles(boolean checkRoles) {
        this.checkRoles = checkRoles;
    }
}
