package dev.caravan.stream;

import dev.caravan.support.GatewayInstance;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;

/** The shipped stream-hooks route (a TRACE log only) is the empty hook: streams skip it, no chunk exchange is made. */
class StreamHooksActiveTest {

    @Test
    void theShippedRouteIsEmpty() {
        try (GatewayInstance gateway = GatewayInstance.startDefault()) {
            StreamHooks hooks = gateway.camel().getRegistry().lookupByNameAndType(StreamHooks.BEAN, StreamHooks.class);
            assertFalse(hooks.active());
        }
    }
}
