package dev.caravan.config;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The env-only set-up (DESIGN §3): each of OLLAMA_URL, VLLM_URL, TGI_URL, LLM_BACKEND_URL, OPENAI_API_KEY and
 * OPENROUTER_API_KEY adds a backend and a prefix model ("ollama/*", ...). Used only when there is no gateway.yaml.
 */
final class EnvBackends {

    private final UnaryOperator<String> env;

    EnvBackends(UnaryOperator<String> env) {
        this.env = env;
    }

    void addTo(Map<String, BackendConfig> backends, Map<String, ModelConfig> models) {
        add(backends, models, "ollama", "ollama", value("OLLAMA_URL"), null);
        add(backends, models, "vllm", "openai", value("VLLM_URL"), null);
        add(backends, models, "tgi", "tgi", value("TGI_URL"), null);
        String generic = value("LLM_BACKEND_URL");
        if (generic != null) {
            String type = value("LLM_BACKEND") == null ? "openai" : value("LLM_BACKEND").toLowerCase(Locale.ROOT);
            add(backends, models, "llm", type, generic, null);
        }
        add(backends, models, "openai", "openai", value("OPENAI_API_KEY") == null ? null : "https://api.openai.com",
                value("OPENAI_API_KEY"));
        add(backends, models, "openrouter", "openai",
                value("OPENROUTER_API_KEY") == null ? null : "https://openrouter.ai/api", value("OPENROUTER_API_KEY"));
        String openRouterModel = value("OPENROUTER_MODEL");
        if (openRouterModel != null && backends.containsKey("openrouter")) {
            models.putIfAbsent(openRouterModel, new ModelConfig("openrouter", openRouterModel, null, null, null, null));
        }
        String defaultModel = value("DEFAULT_LOCAL_MODEL");
        if (defaultModel != null && backends.containsKey("ollama") && !models.containsKey(defaultModel)) {
            // the model a bare local set-up answers with: OLLAMA_URL + DEFAULT_LOCAL_MODEL=llama3.2
            models.put(defaultModel, new ModelConfig("ollama", defaultModel, List.of("default"), null, null, null));
        }
    }

    /** The variables that would add a backend, for the WARN that a gateway.yaml makes them ignored. */
    List<String> declaredVariables() {
        return VARIABLES.stream().filter(name -> value(name) != null).toList();
    }

    private static final List<String> VARIABLES = List.of("OLLAMA_URL", "VLLM_URL", "TGI_URL", "LLM_BACKEND_URL",
            "OPENAI_API_KEY", "OPENROUTER_API_KEY");

    private void add(Map<String, BackendConfig> backends, Map<String, ModelConfig> models, String name, String type,
                     String url, String apiKey) {
        if (url == null || backends.containsKey(name)) {
            return;
        }
        backends.put(name, BackendConfig.of(type, url, apiKey));
        models.putIfAbsent(name + "/*", new ModelConfig(name, null, null, null, null, null));
    }

    private String value(String name) {
        String v = env.apply(name);
        return v == null || v.isBlank() ? null : v.trim();
    }
}
