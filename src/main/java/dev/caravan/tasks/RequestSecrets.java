package dev.caravan.tasks;

import java.net.URI;
import java.util.Iterator;
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

    /** Names (lower case, letters and digits only) that are a secret whole: "key", "Cookie", "X-Auth". */
    private static final Set<String> SECRET_NAMES = Set.of("key", "auth", "xauth", "bearer", "jwt", "pwd", "passwd",
            "pin", "otp", "cookie", "cookies", "setcookie", "sessionid", "privatekey");
    /**
     * Endings that make a name a secret: api_key, access_key, client_secret, refresh_token, db_password,
     * proxy-authorization... Keys are listed by kind rather than as "*key", which would also take request
     * parameters such as prompt_cache_key that a replay needs (and "signature" is not here: a thinking block's
     * signature is part of the conversation).
     */
    private static final String[] SECRET_SUFFIXES = {"apikey", "accesskey", "secretkey", "privatekey", "sessionkey",
            "signingkey", "encryptionkey", "masterkey", "authkey", "clientkey", "accountkey", "sharedkey",
            "subscriptionkey", "licensekey", "secret", "secrets", "token", "password", "passwords", "passphrase",
            "passcode", "credential", "credentials", "authorization", "cookie"};

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
        String name = normalized(field);
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

    /** Lower case, letters and digits only: "X-Api-Key" and "x_api_key" are both "xapikey". */
    private static String normalized(String field) {
        StringBuilder name = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = Character.toLowerCase(field.charAt(i));
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
                name.append(c);
            }
        }
        return name.toString();
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
