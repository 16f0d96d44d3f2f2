package dev.caravan.config;

import java.util.Locale;

/** Order of service in a lane's queue: high before normal before low, first come first served within each. */
public enum Priority {
    HIGH, NORMAL, LOW;

    /** Parses "high" / "normal" / "low" (any case); anything else is null. */
    public static Priority parse(String value) {
        if (value == null) {
            return null;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "high" -> HIGH;
            case "normal" -> NORMAL;
            case "low" -> LOW;
            default -> null;
        };
    }
}
