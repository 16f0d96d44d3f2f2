package dev.caravan.hooks;

import dev.caravan.config.KeyHeaders;
import dev.caravan.exchange.ReplyHeaders;
import dev.caravan.openai.OpenAiError;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

/**
 * The key a request presents: {@code Authorization: Bearer <key>}, else {@code x-api-key: <key>}. Both headers
 * leave the message once read, so no later step, log or upstream call can see them.
 */
record PresentedKey(String value, boolean malformed) {

    static final String AUTHORIZATION = KeyHeaders.AUTHORIZATION;
    static final String X_API_KEY = KeyHeaders.X_API_KEY;

    static PresentedKey take(Exchange exchange) {
        Message message = exchange.getMessage();
        String authorization = message.getHeader(AUTHORIZATION, String.class);
        String apiKey = message.getHeader(X_API_KEY, String.class);
        message.removeHeader(AUTHORIZATION);
        message.removeHeader(X_API_KEY);
        String key = KeyHeaders.presented(authorization, apiKey);
        return new PresentedKey(key, key == null && authorization != null);
    }

    /** The key presented, leaving its headers in place for the auth step that takes them. */
    static String peek(Exchange exchange) {
        Message message = exchange.getMessage();
        return KeyHeaders.presented(message.getHeader(AUTHORIZATION, String.class),
                message.getHeader(X_API_KEY, String.class));
    }

    boolean missing() {
        return value == null;
    }

    /** The 401 for a request without a usable key: OpenAI's shape, and nothing of the key itself. */
    OpenAiError unauthorized(Exchange exchange, boolean unknown) {
        ReplyHeaders.set(exchange, "www-authenticate", "Bearer realm=\"caravan\"");
        String message = unknown ? KeyHeaders.INCORRECT : malformed ? KeyHeaders.MALFORMED : KeyHeaders.MISSING;
        return new OpenAiError(401, "invalid_request_error", "invalid_api_key", null, message);
    }
}
