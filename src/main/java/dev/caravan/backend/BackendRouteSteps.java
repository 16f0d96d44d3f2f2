package dev.caravan.backend;

import dev.caravan.config.BackendType;
import dev.caravan.resilience.CircuitBreakers;
import io.vertx.core.Vertx;
import org.apache.camel.spi.Registry;

/**
 * The beans the backend routes (routes/60-backends) name, one per protocol: {@code <type>Call} ({@code openaiCall},
 * {@code ollamaCall}, {@code tgiCall}, {@code localCall}, ...), a {@link BackendCall} bound to that protocol's
 * adapter; a protocol without an adapter gets a step that answers 501 backend_not_supported.
 */
public final class BackendRouteSteps {

    private BackendRouteSteps() {
    }

    /** The bean name of a protocol's backend-call step: {@code openaiCall}, {@code ollamaCall}, ... */
    public static String beanName(BackendType type) {
        return type.routeName() + "Call";
    }

    public static void bind(Registry registry, Adapters adapters, Vertx vertx, CircuitBreakers circuits) {
        for (BackendType type : BackendType.values()) {
            BackendAdapter adapter = adapters.find(type);
            registry.bind(beanName(type), adapter == null ? new UnsupportedProtocol(type.routeName())
                    : new BackendCall(adapter, vertx, circuits));
        }
    }
}
