package dev.caravan.api;

import dev.caravan.config.ApiKeys;
import dev.caravan.config.KeyHeaders;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.main.ManagementHttpServer;
import org.apache.camel.component.platform.http.vertx.auth.AuthenticationConfig;
import org.apache.camel.support.LifecycleStrategySupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin key in front of what the management port offers beyond health: Jolokia (every MBean's attributes and
 * operations: pause a lane, force a circuit, and the JVM's own) and the dev console (routes, properties, exchanges).
 * Both need ADMIN_API_KEY ({@code Authorization: Bearer <key>} or {@code x-api-key}): without a key 401, with any
 * other 403. With no ADMIN_API_KEY set they answer 403 to everyone, whatever the other keys: unlike the admin
 * endpoints of the API port, they never fall back to "any valid key" or to open. Health stays open for the probes.
 * <p>
 * Put in as an authentication entry of the management server's router, which runs before its consoles.
 */
public final class ManagementGuard {

    private static final Logger LOG = LoggerFactory.getLogger(ManagementGuard.class);

    private final ApiKeys keys;

    public ManagementGuard(ApiKeys keys) {
        this.keys = keys;
    }

    /** Guards the Jolokia and dev-console paths of the management server, if there is one, before it listens. */
    public void attach(CamelContext camel, String jolokiaPath, boolean jolokiaOn, boolean consoleOn) {
        camel.addLifecycleStrategy(new LifecycleStrategySupport() {
            @Override
            public void onContextStarting(CamelContext context) {
                ManagementHttpServer server = context.hasService(ManagementHttpServer.class);
                if (server == null || !jolokiaOn && !consoleOn) {
                    return;
                }
                AuthenticationConfig handlers = server.getConfiguration().getAuthenticationConfig();
                if (jolokiaOn) {
                    handlers.getEntries().add(new Entry(jolokiaPath + "/*"));
                }
                if (consoleOn) {
                    handlers.getEntries().add(new Entry("/q/dev/*"));
                }
                handlers.setEnabled(true);
                if (!keys.hasAdminKey()) {
                    LOG.warn("{} on the management port but ADMIN_API_KEY is not set: every request to it gets 403",
                            jolokiaOn && consoleOn ? "Jolokia and the dev console are" : jolokiaOn ? "Jolokia is"
                                    : "The dev console is");
                }
            }
        });
    }

    private void check(RoutingContext ctx) {
        String presented = KeyHeaders.presented(ctx.request().getHeader(KeyHeaders.AUTHORIZATION),
                ctx.request().getHeader(KeyHeaders.X_API_KEY));
        if (keys.hasAdminKey() && keys.isAdmin(presented)) {
            ctx.next();
            return;
        }
        OpenAiError refusal;
        if (!keys.hasAdminKey()) {
            refusal = new OpenAiError(403, "invalid_request_error", "admin_key_required", null,
                    "The management console needs the admin key, and ADMIN_API_KEY is not set.");
        } else if (presented == null) {
            ctx.response().putHeader("www-authenticate", "Bearer realm=\"caravan\"");
            refusal = new OpenAiError(401, "invalid_request_error", "invalid_api_key", null, KeyHeaders.MISSING);
        } else {
            refusal = new OpenAiError(403, "invalid_request_error", "admin_key_required", null,
                    "The management console needs the admin key (ADMIN_API_KEY).");
        }
        ReplyWriter.writeError(ctx.response(), refusal, null);
    }

    private final class Entry extends AuthenticationConfig.AuthenticationConfigEntry {

        Entry(String path) {
            setPath(path);
        }

        @Override
        public Handler<RoutingContext> createAuthenticationHandler(Vertx vertx) {
            return ManagementGuard.this::check;
        }
    }
}
