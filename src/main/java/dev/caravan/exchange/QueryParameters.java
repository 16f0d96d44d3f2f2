package dev.caravan.exchange;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

import org.apache.camel.Exchange;

/** Query parameters of the request, which the HTTP consumer leaves as the raw query string (they steer no step). */
public final class QueryParameters {

    private QueryParameters() {
    }

    /** The first value of the parameter, form-decoded; "" for a name without a value; null when absent. */
    public static String first(Exchange exchange, String name) {
        String query = exchange.getMessage().getHeader(Exchange.HTTP_QUERY, String.class);
        if (query == null || query.isEmpty()) {
            return null;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : pair.substring(0, eq);
            if (decoded(key).equals(name)) {
                return eq < 0 ? "" : decoded(pair.substring(eq + 1));
            }
        }
        return null;
    }

    private static String decoded(String text) {
        try {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return text; // a malformed escape: compared and used as sent (it never matches a name we look for)
        }
    }
}
