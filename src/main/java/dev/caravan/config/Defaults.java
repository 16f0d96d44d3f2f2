package dev.caravan.config;

/** Defaults for what a backend does not say, from application.properties / env (MAX_CONCURRENT, ...). */
public record Defaults(int maxConcurrent, int queueSize, int queueTimeoutSeconds, int timeoutSeconds) {
}
