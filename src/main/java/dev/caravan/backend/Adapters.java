package dev.caravan.backend;

import java.util.EnumMap;
import java.util.Map;

import dev.caravan.config.BackendType;
import dev.caravan.openai.OpenAiError;

/**
 * The adapter of each upstream protocol. The backend routes name their protocol's call step themselves (see
 * {@link BackendRouteSteps}); this lookup by a backend's type serves what has no route, such as the model listing.
 */
public final class Adapters {

    private final Map<BackendType, BackendAdapter> adapters = new EnumMap<>(BackendType.class);

    public Adapters register(BackendType type, BackendAdapter adapter) {
        adapters.put(type, adapter);
        return this;
    }

    /** The protocol's adapter, or null when it has none yet. */
    public BackendAdapter find(BackendType type) {
        return adapters.get(type);
    }

    public BackendAdapter of(BackendType type) {
        BackendAdapter adapter = adapters.get(type);
        if (adapter == null) {
            throw new OpenAiError(501, "invalid_request_error", "backend_not_supported", null,
                    "Backends of type " + type.routeName() + " are not supported yet");
        }
        return adapter;
    }
}
