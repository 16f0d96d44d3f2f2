package dev.caravan.config;

/**
 * Where a model id goes: the id the client sent, the backend that serves it and the model name the upstream
 * knows it by.
 */
public record ModelRoute(String model, String backendName, BackendConfig backend, String upstreamModel,
                         ModelConfig config) {
}
