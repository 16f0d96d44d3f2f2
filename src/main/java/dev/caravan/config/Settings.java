package dev.caravan.config;

import org.apache.camel.spi.PropertiesComponent;

/** Reads the gateway's own settings (application.properties, environment overrides) where beans are made. */
public final class Settings {

    private Settings() {
    }

    /** The setting, trimmed; {@code fallback} when it is missing or empty. */
    public static String text(PropertiesComponent properties, String key, String fallback) {
        return properties.resolveProperty(key).map(String::trim).filter(v -> !v.isEmpty()).orElse(fallback);
    }

    /** A whole number; {@code fallback} when missing or empty; a clear error naming the key when it is not one. */
    public static long number(PropertiesComponent properties, String key, long fallback) {
        String value = text(properties, key, "");
        if (value.isEmpty()) {
            return fallback;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number, not '" + value + "'");
        }
    }
}
