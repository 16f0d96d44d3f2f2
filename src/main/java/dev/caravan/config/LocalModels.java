package dev.caravan.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The embedded default: the in-process backend and its two models, served with nothing installed. */
public final class LocalModels {

    public static final String BACKEND = "local";
    public static final String ECHO = "caravan-echo";
    public static final String MINILM = "all-minilm-l6-v2";

    private LocalModels() {
    }

    static Map<String, ModelConfig> models() {
        Map<String, ModelConfig> models = new LinkedHashMap<>();
        models.put(ECHO, new ModelConfig(BACKEND, ECHO, List.of(), List.of(), 8192, Cost.FREE));
        models.put(MINILM, new ModelConfig(BACKEND, MINILM, List.of("all-MiniLM-L6-v2"), List.of(), 256, Cost.FREE));
        return models;
    }
}
