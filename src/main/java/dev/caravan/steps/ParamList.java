package dev.caravan.steps;

import java.util.LinkedHashMap;
import java.util.Map;

/** A kamelet parameter of the form "name=value, name=value" (order kept; blanks around names and values ignored). */
final class ParamList {

    private ParamList() {
    }

    static Map<String, String> parse(String text, String what) {
        Map<String, String> pairs = new LinkedHashMap<>();
        if (text == null || text.isBlank()) {
            return pairs;
        }
        for (String pair : text.split(",")) {
            if (pair.isBlank()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0 || eq == pair.length() - 1) {
                throw new IllegalArgumentException(what + ": '" + pair.trim() + "' is not name=value");
            }
            pairs.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
        }
        return pairs;
    }
}
