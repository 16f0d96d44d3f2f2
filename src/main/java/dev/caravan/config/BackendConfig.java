package dev.caravan.config;

/** One upstream as gateway.yaml declares it (DESIGN §3a); null fields take the defaults of {@link Defaults}. */
public record BackendConfig(
        String type,
        String url,
        String apiKey,
        Integer maxConcurrent,
        Integer queueSize,
        Integer queueTimeoutSeconds,
        Integer timeoutSeconds) {

    public BackendType backendType() {
        return BackendType.of(type);
    }

    BackendConfig withDefaults(Defaults defaults) {
        return new BackendConfig(type, url, apiKey,
                maxConcurrent != null ? maxConcurrent : defaults.maxConcurrent(),
                queueSize != null ? queueSize : defaults.queueSize(),
                queueTimeoutSeconds != null ? queueTimeoutSeconds : defaults.queueTimeoutSeconds(),
                timeoutSeconds != null ? timeoutSeconds : defaults.timeoutSeconds());
    }
}
