package dev.caravan.config;

/** gateway.yaml (or the env) says something the gateway cannot run with; the message names where and what. */
public class ConfigException extends RuntimeException {

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
