package dev.caravan.config;

import java.util.List;
import java.util.Map;

/** The whole of gateway.yaml, after env references were resolved and the built-in parts were added. */
public record GatewayConfig(
        Map<String, BackendConfig> backends,
        Map<String, ModelConfig> models,
        List<KeyConfig> keys,
        Map<String, Object> tools) {

    public GatewayConfig {
        backends = backends == null ? Map.of() : backends;
        models = models == null ? Map.of() : models;
        keys = keys == null ? List.of() : keys;
        tools = tools == null ? Map.of() : tools;
    }
}
