package dev.caravan.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Model id → backend, from one configuration snapshot: exact ids first, then aliases, then prefix models
 * ("fake/*" serves "fake/x" as upstream model "x"), the longest prefix winning.
 */
public final class ModelCatalog {

    private final GatewayConfig config;
    private final Map<String, ModelRoute> exact = new HashMap<>();
    private final List<Map.Entry<String, String>> prefixes = new ArrayList<>(); // prefix "fake/" → model key

    public ModelCatalog(GatewayConfig config) {
        this.config = config;
        config.models().forEach((id, model) -> {
            if (id.endsWith("/*")) {
                prefixes.add(Map.entry(id.substring(0, id.length() - 1), id));
                return;
            }
            ModelRoute route = route(id, id, model);
            exact.put(id, route);
            for (String alias : model.aliasesOrEmpty()) {
                exact.putIfAbsent(alias, route(alias, id, model));
            }
        });
        prefixes.sort((a, b) -> b.getKey().length() - a.getKey().length());
    }

    public GatewayConfig config() {
        return config;
    }

    public Optional<ModelRoute> resolve(String model) {
        if (model == null) {
            return Optional.empty();
        }
        ModelRoute route = exact.get(model);
        if (route != null) {
            return Optional.of(route);
        }
        for (Map.Entry<String, String> prefix : prefixes) {
            if (model.startsWith(prefix.getKey()) && model.length() > prefix.getKey().length()) {
                ModelConfig config = this.config.models().get(prefix.getValue());
                String upstream = model.substring(prefix.getKey().length());
                return Optional.of(new ModelRoute(model, config.backend(), backend(config), upstream, config));
            }
        }
        return Optional.empty();
    }

    /** True for an id gateway.yaml names (a model or an alias), false for one a prefix model lets through. */
    public boolean isDeclared(String model) {
        return model != null && exact.containsKey(model);
    }

    /** The ids /v1/models lists as configured: exact models (aliases are not listed twice). */
    public List<String> declaredModels() {
        List<String> ids = new ArrayList<>();
        config.models().forEach((id, model) -> {
            if (!id.endsWith("/*")) {
                ids.add(id);
            }
        });
        return ids;
    }

    /** Prefix models, as (prefix such as "ollama/", backend name). */
    public List<Map.Entry<String, String>> prefixModels() {
        List<Map.Entry<String, String>> list = new ArrayList<>();
        for (Map.Entry<String, String> prefix : prefixes) {
            list.add(Map.entry(prefix.getKey(), config.models().get(prefix.getValue()).backend()));
        }
        return list;
    }

    static boolean isPrefixMatch(Map<String, ModelConfig> models, String model) {
        for (String id : models.keySet()) {
            if (id.endsWith("/*") && model.startsWith(id.substring(0, id.length() - 1))) {
                return true;
            }
        }
        return false;
    }

    private ModelRoute route(String requested, String id, ModelConfig model) {
        String upstream = model.upstreamModel() != null ? model.upstreamModel() : id;
        return new ModelRoute(requested, model.backend(), backend(model), upstream, model);
    }

    private BackendConfig backend(ModelConfig model) {
        return config.backends().get(model.backend());
    }
}
