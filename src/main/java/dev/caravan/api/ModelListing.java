package dev.caravan.api;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.backend.Adapters;
import dev.caravan.config.BackendConfig;
import dev.caravan.config.KeyConfig;
import dev.caravan.config.ListedModels;
import dev.caravan.config.LiveConfig;
import dev.caravan.config.ModelCatalog;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Utf8;
import io.vertx.core.Future;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * GET /v1/models and /v1/models/{id}: the configured models, plus what each prefix backend's upstream lists
 * (Ollama /api/tags, OpenAI /v1/models) under its prefix. Upstream lists are cached for a minute and an
 * upstream that does not answer within three seconds is left out, so the listing never hangs. The pipes of
 * routes/pipelines/ are models too (owned_by "pipeline"); a key's models globs apply to their ids.
 */
public final class ModelListing extends AsyncProcessorSupport {

    private static final long CACHE_MILLIS = 60_000;
    private static final String PIPELINE_OWNER = "pipeline";
    private final LiveConfig config;
    private final Adapters adapters;
    private final Map<String, Cached> upstreamLists = new ConcurrentHashMap<>();
    private final ListedModels listed;
    /** Ids of the pipes of routes/pipelines/: models of their own, owned by "pipeline". */
    private final Supplier<List<String>> pipes;

    public ModelListing(LiveConfig config, Adapters adapters, ListedModels listed, Supplier<List<String>> pipes) {
        this.config = config;
        this.adapters = adapters;
        this.listed = listed;
        this.pipes = pipes;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        String id;
        try {
            id = modelId(exchange.getMessage().getHeader(Exchange.HTTP_PATH, String.class));
        } catch (OpenAiError e) {
            exchange.setException(e);
            callback.done(true);
            return true;
        }
        // a key lists and looks up only the models it may use; for any other id it learns nothing (404)
        KeyConfig key = exchange.getProperty(ExchangeKeys.KEY, KeyConfig.class);
        if (id != null && key != null && !key.allows(id)) {
            exchange.setException(OpenAiError.modelNotFound(id));
            callback.done(true);
            return true;
        }
        ModelCatalog catalog = config.catalog();
        listAll(catalog).onComplete(ar -> {
            Map<String, String> models = ar.result(); // never fails: failed upstreams are left out
            if (id == null) {
                ObjectNode list = Json.object();
                list.put("object", "list");
                ArrayNode data = list.putArray("data");
                models.forEach((model, owner) -> {
                    if (key == null || key.allows(model)) {
                        data.add(model(model, owner));
                    }
                });
                exchange.getMessage().setBody(list);
            } else if (models.containsKey(id)) {
                exchange.getMessage().setBody(model(id, models.get(id)));
            } else if (catalog.resolve(id).isPresent()) {
                exchange.getMessage().setBody(model(id, catalog.resolve(id).get().backendName()));
            } else {
                exchange.setException(OpenAiError.modelNotFound(id));
            }
            callback.done(false);
        });
        return false;
    }

    private Future<Map<String, String>> listAll(ModelCatalog catalog) {
        Map<String, String> models = new LinkedHashMap<>();
        for (String model : catalog.declaredModels()) {
            models.put(model, catalog.config().models().get(model).backend());
        }
        for (String pipe : pipes.get()) {
            models.putIfAbsent(pipe, PIPELINE_OWNER);
        }
        List<Future<Void>> lookups = new ArrayList<>();
        for (Map.Entry<String, String> prefix : catalog.prefixModels()) {
            String backendName = prefix.getValue();
            BackendConfig backend = catalog.config().backends().get(backendName);
            lookups.add(upstreamModels(backendName, backend).map(names -> {
                synchronized (models) {
                    names.forEach(name -> models.putIfAbsent(prefix.getKey() + name, backendName));
                }
                listed.remember(prefix.getKey(), names);
                return null;
            }));
        }
        return Future.join(lookups).transform(ar -> Future.succeededFuture(models));
    }

    private Future<List<String>> upstreamModels(String backendName, BackendConfig backend) {
        Cached cached = upstreamLists.get(backendName);
        if (cached != null && cached.config.equals(backend) && System.currentTimeMillis() < cached.expires) {
            return Future.succeededFuture(cached.names);
        }
        Future<List<String>> lookup;
        try {
            lookup = adapters.of(backend.backendType()).listModels(backendName, backend);
        } catch (RuntimeException e) {
            return Future.succeededFuture(List.of()); // a backend type without an adapter lists nothing
        }
        return lookup
                .onSuccess(names -> upstreamLists.put(backendName,
                        new Cached(backend, names, System.currentTimeMillis() + CACHE_MILLIS)))
                .otherwise(List.of());
    }

    /**
     * "/v1/models/ollama/llama3.2:latest" → "ollama/llama3.2:latest"; "/v1/models" → null (the list). The raw path
     * is percent-decoded once, as a path: "%2F" is "/", and "+" stays "+" (it means a space only in forms).
     */
    static String modelId(String path) {
        if (path == null) {
            return null;
        }
        int at = path.indexOf("/models/");
        if (at < 0) {
            return null;
        }
        String id = percentDecoded(path.substring(at + "/models/".length()));
        return id.isEmpty() ? null : id;
    }

    private static String percentDecoded(String raw) {
        if (raw.indexOf('%') < 0) {
            return raw;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c != '%') {
                bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
                continue;
            }
            int high = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
            int low = high < 0 ? -1 : Character.digit(raw.charAt(i + 2), 16);
            if (low < 0) {
                throw OpenAiError.invalidRequest(null, "The model id in the path has a malformed %-escape");
            }
            bytes.write(high << 4 | low);
            i += 2;
        }
        byte[] decoded = bytes.toByteArray();
        if (!Utf8.isValid(decoded)) {
            throw OpenAiError.invalidRequest(null, "The model id in the path is not valid UTF-8");
        }
        return new String(decoded, StandardCharsets.UTF_8);
    }

    private static ObjectNode model(String id, String owner) {
        ObjectNode model = Json.object();
        model.put("id", id);
        model.put("object", "model");
        model.put("created", 1700000000L);
        model.put("owned_by", owner);
        return model;
    }

    private record Cached(BackendConfig config, List<String> names, long expires) {
    }
}
