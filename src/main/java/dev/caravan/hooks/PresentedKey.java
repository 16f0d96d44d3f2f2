package dev.caravan.hooks;

import dev.caravan.api.ReplyHeaders;
import dev.caravan.openai.OpenAiError;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

/**
 * The key a request presents: {@code Authorization: Bearer <key>}, else {@code x-api-key: <key>}. Both headers
 * leave the message once read, so no later step, log or upstream call can see them.
 */
record PresentedKey(String value, boolean malformed) {

    static final String AUTHORIZATION = "Authorization";
    static final String X_API_KEY = "x-api-key";

    static PresentedKey take(Exchange exchange) {
        Message message = exchange.getMessage();
        String authorization = message.getHeader(AUTHORIZATION, String.class);
        String apiKey = message.getHeader(X_API_KEY, String.class);
        message.removeHeader(AUTHORIZATION);
        message.removeHeader(X_API_KEY);
        String bearer = bearer(authorization);
        if (bearer != null) {
            return new PresentedKey(bearer, false);
        }
        if (apiKey != null && !apiKey.isBlank()) {
            return new PresentedKey(apiKey.trim(), false);
        }
        return new PresentedKey(null, authorization != null);
    }

    boolean missing() {
        return value == null;
    }

    private static String bearer(String authorization) {
        if (authorization == null) {
            return null;
        }
        String header = authorization.trim();
        if (header.length() <= 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String token = header.substring(7).trim();
        return token.isEmpty() || token.indexOf(' ') >= 0 ? null : token;
    }

    /** The 401 for a request without a usable key: OpenAI's shape, and nothing of the key itself. */
    OpenAiError unauthorized(Exchange exchange, boolean unknown) {
        ReplyHeaders.set(exchange, "www-authenticate", "Bearer realm=\"caravan\"");
        String message;
        if (unknown) {
            message = "Incorrect API key provided.";
        } else if (malformed) {
            message = "The Authorization header is malformed: send 'Authorization: Bearer YOUR_KEY' "
                    + "(or the key alone in the x-api-key header).";
        } else {
            message = "You didn't provide an API key. You need to provide your API key in an Authorization header "
                    + "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or in the x-api-key header.";
        }
        return new OpenAiError(401, "invalid_request_error", "invalid_api_key", null, message);
    }
}
