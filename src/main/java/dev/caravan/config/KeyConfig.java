package dev.caravan.config;

import java.util.List;

/** An API key and what it may do (DESIGN §3a); enforced by the traffic-control hooks. */
public record KeyConfig(
        String key,
        String name,
        List<String> models,
        Integer rateLimitPerMin,
        Integer burst,
        Integer tokensPerMin,
        String priority) {

    /**
     * May this key use the model id? It must match one of {@code models}: an exact id, or a glob with {@code *}
     * (any run of characters, slashes included) and {@code ?} (one character): {@code *}, {@code llama*},
     * {@code ollama/*}. Without {@code models}, every model; with {@code models: []}, none.
     */
    public boolean allows(String model) {
        if (models == null) {
            return true;
        }
        for (String glob : models) {
            if (glob != null && matches(glob, model == null ? "" : model)) {
                return true;
            }
        }
        return false;
    }

    /** Wildcard match, linear with backtracking to the last star (no regex: globs come from operators). */
    public static boolean matches(String glob, String text) {
        int g = 0;
        int t = 0;
        int star = -1;
        int resume = 0;
        while (t < text.length()) {
            if (g < glob.length() && (glob.charAt(g) == '?' || glob.charAt(g) == text.charAt(t))) {
                g++;
                t++;
            } else if (g < glob.length() && glob.charAt(g) == '*') {
                star = g++;
                resume = t;
            } else if (star >= 0) {
                g = star + 1;
                t = ++resume;
            } else {
                return false;
            }
        }
        while (g < glob.length() && glob.charAt(g) == '*') {
            g++;
        }
        return g == glob.length();
    }
}
