package dev.caravan.support;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

import dev.caravan.emulator.UpstreamEmulator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One upstream emulator and one gateway configured against it, shared by a test class: both start before all
 * its tests and stop after them, and the emulator's knobs and counters are reset before each test, so no test
 * sees another's settings. Register it as a static field:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final EmulatedGateway env = EmulatedGateway.withConfig(url -> "backends: ...".formatted(url));
 * }</pre>
 */
public final class EmulatedGateway implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback {

    private final Function<UpstreamEmulator, String> config;
    private final Map<String, String> properties = new LinkedHashMap<>();
    private UpstreamEmulator upstream;
    private GatewayInstance gateway;

    private EmulatedGateway(Function<UpstreamEmulator, String> config) {
        this.config = config;
    }

    /** The gateway.yaml, given the emulator's base URL. */
    public static EmulatedGateway withConfig(Function<String, String> gatewayYaml) {
        return new EmulatedGateway(emulator -> gatewayYaml.apply(emulator.baseUrl()));
    }

    /**
     * The gateway.yaml, given the emulator itself: for backends on {@link UpstreamEmulator#extraBaseUrl() other
     * addresses} of the one emulator.
     */
    public static EmulatedGateway withEmulator(Function<UpstreamEmulator, String> gatewayYaml) {
        return new EmulatedGateway(gatewayYaml);
    }

    public EmulatedGateway property(String key, String value) {
        properties.put(key, value);
        return this;
    }

    public UpstreamEmulator upstream() {
        return upstream;
    }

    public GatewayInstance gateway() {
        return gateway;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        upstream = UpstreamEmulator.start();
        GatewayInstance.Builder builder = GatewayInstance.builder().config(config.apply(upstream));
        properties.forEach(builder::property);
        gateway = builder.start();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        upstream.reset();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        try {
            if (gateway != null) {
                gateway.close();
            }
        } finally {
            upstream.close();
        }
    }
}
