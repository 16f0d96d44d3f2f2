package dev.caravan.steps;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * The policy hook step (kamelet policy-action), for prompts (a pre- or mid-hook): a request whose text holds a
 * listed keyword or matches the regex is refused with 400 content_policy (mode deny), or has each match replaced
 * (mode rewrite) and goes on. The refusal names the message, never the matched text.
 */
public final class Policy implements Processor {

    private String keywords = "";
    private String regex = "";
    private Pattern pattern;
    private boolean rewrite;
    private String replacement = "[removed]";
    private String message = "The request was refused by the content policy.";

    @Override
    public void process(Exchange exchange) {
        Pattern terms = pattern;
        if (terms == null) {
            return;
        }
        ObjectNode request = StepBody.request(exchange);
        if (rewrite) {
            String quoted = Matcher.quoteReplacement(replacement);
            TextFields.rewriteRequest(request, text -> terms.matcher(text).replaceAll(quoted));
            return;
        }
        JsonNode messages = request.get("messages");
        if (messages != null && messages.isArray()) {
            for (int i = 0; i < messages.size(); i++) {
                if (terms.matcher(TextFields.contentText(messages.get(i).get("content"))).find()) {
                    throw StepErrors.contentPolicy("messages[" + i + "].content", message);
                }
            }
        }
        if (terms.matcher(TextFields.contentText(request.get("prompt"))).find()) {
            throw StepErrors.contentPolicy("prompt", message);
        }
    }

    public void setKeywords(String keywords) {
        this.keywords = keywords == null ? "" : keywords;
        this.pattern = TermPattern.of(this.keywords, regex, "policy");
    }

    public void setRegex(String regex) {
        this.regex = regex == null ? "" : regex;
        this.pattern = TermPattern.of(keywords, this.regex, "policy");
    }

    /** deny (default) or rewrite. */
    public void setMode(String mode) {
        switch (mode == null ? "" : mode.trim()) {
            case "", "deny" -> rewrite = false;
            case "rewrite" -> rewrite = true;
            default -> throw new IllegalArgumentException("policy mode must be deny or rewrite, not " + mode);
        }
    }

    public void setReplacement(String replacement) {
        this.replacement = replacement == null ? "" : replacement;
    }

    public void setMessage(String message) {
        if (message != null && !message.isBlank()) {
            this.message = message;
        }
    }
}
