package dev.caravan.config;

/**
 * How a request presents its key: {@code Authorization: Bearer <key>}, else {@code x-api-key: <key>}. One reading
 * for the HTTP edge (which checks the key before the body is read) and the auth hooks.
 */
public final class KeyHeaders {

    public static final String AUTHORIZATION = "Authorization";
    public static final String X_API_KEY = "x-api-key";

    /** The 401 messages, in OpenAI's words; none says anything of the key itself. */
    public static final String INCORRECT = "Incorrect API key provided.";
    public static final String MALFORMED = "The Authorization header is malformed: send 'Authorization: Bearer YOUR_KEY' "
            + "(or the key alone in the x-api-key header).";
    public static final String MISSING = "You didn't provide an API key. You need to provide your API key in an "
            + "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or in the x-api-key header.";

    private KeyHeaders() {
    }

    /** The key the headers present, or null when neither carries a usable one. */
    public static String presented(String authorization, String apiKey) {
        String bearer = bearer(authorization);
        if (bearer != null) {
            return bearer;
        }
        return apiKey != null && !apiKey.isBlank() ? apiKey.trim() : null;
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
}
