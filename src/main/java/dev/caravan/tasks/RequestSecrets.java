package dev.caravan.tasks;

import java.net.URI;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Takes secrets out of a request before it is kept in the DLQ, which admins list and which may sit in a shared
 * Redis: fields named like keys, tokens, passwords or auth headers, at any depth, and callback URLs that carry
 * credentials (user info or a query string). The conversation itself is kept: it is what a replay needs.
 */
final class RequestSecrets {

    private static final Set<String> SECRET_NAMES = Set.of("authorization", "auth", "apikey", "password", "passwd",
            "pwd", "secret", "token", "accesstoken", "refreshtoken", "idtoken", "sessiontoken", "bearer", "cookie",
            "setcookie", "credential", "credentials", "privatekey");
    private static final String[] SECRET_SUFFIXES = {"apikey", "secret", "password", "accesstoken", "authorization",
            "credentials"};

    private RequestSecrets() {
    }

    /** A copy of the request without its secrets. */
    static ObjectNode scrub(ObjectNode request) {
        ObjectNode copy = request.deepCopy();
        scrubNode(copy);
        JsonNode callback = copy.get("callback_url");
        if (callback != null && !(callback.isTextual() && withoutCredentials(callback.asText()))) {
            copy.remove("callback_url");
        }
        return copy;
    }

    static boolean isSecretName(String field) {
        String name = field.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
        if (SECRET_NAMES.contains(name) || name.startsWith("callbackauth") || name.startsWith("callbackheader")
                || name.startsWith("callbacktoken") || name.startsWith("callbacksecret")) {
            return true;
        }
        for (String suffix : SECRET_SUFFIXES) {
            if (name.endsWith(suffix)) {
                return true;
            }
        }
        return false;
    }

    /** True for a URL without user info and without a query string (where callback credentials would sit). */
    static boolean withoutCredentials(String url) {
        try {
            URI uri = URI.create(url);
            return uri.getRawUserInfo() == null && uri.getRawQuery() == null;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static void scrubNode(JsonNode node) {
        if (node instanceof ObjectNode object) {
            for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                if (isSecretName(field.getKey())) {
                    it.remove();
                } else {
                    scrubNode(field.getValue());
                }
            }
        } else if (node instanceof ArrayNode array) {
            array.forEach(RequestSecrets::scrubNode);
        }
    }
}
