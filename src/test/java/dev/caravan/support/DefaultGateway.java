package dev.caravan.support;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One gateway with no configuration at all (the embedded default), shared by a test class: it starts before all
 * its tests and stops after them. Register it as a static field:
 * {@code @RegisterExtension static final DefaultGateway env = new DefaultGateway();}
 */
public final class DefaultGateway implements BeforeAllCallback, AfterAllCallback {

    private GatewayInstance gateway;

    public GatewayInstance gateway() {
        return gateway;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        gateway = GatewayInstance.startDefault();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (gateway != null) {
            gateway.close();
        }
    }
}
