package dev.caravan.pipelines;

import java.nio.file.Path;
import java.util.Map;

import dev.caravan.config.ApiKeys;
import dev.caravan.config.LiveConfig;
import dev.caravan.config.RouteReloadFailures;
import dev.caravan.config.Settings;
import dev.caravan.outbound.AllowedHosts;
import dev.caravan.outbound.DestinationCheck;
import io.vertx.core.Vertx;
import org.apache.camel.CamelContext;
import org.apache.camel.StartupListener;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.spi.Registry;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipelines folder's beans, by the names routes/ uses: {@code pipelineInlets} (pre-hooks), {@code
 * pipelineOutlets} (post-hooks), {@code pipelinePipe} (router), {@code pipelineList}, {@code pipelineAdd},
 * {@code pipelineDelete}, {@code pipelineReload} (routes/15-pipelines-admin), and {@code pipelines} itself (for
 * /v1/models). Settings: gateway.pipelines-dir (PIPELINES_DIR), gateway.pipelines-poll-ms,
 * gateway.pipelines-allowed-hosts (PIPELINES_ALLOWED_HOSTS), gateway.pipelines-max-bytes,
 * gateway.pipelines-fetch-timeout-ms. The folder is read once the context runs (its steps build against the
 * routes of routes/), then watched.
 */
public final class PipelineBeans {

    private static final Logger LOG = LoggerFactory.getLogger(PipelineBeans.class);

    private PipelineBeans() {
    }

    /** @param failures where a refused pipeline file stands (in /health) until a good edit of it loads */
    public static Pipelines install(CamelContext camel, Vertx vertx, LiveConfig config, ApiKeys keys,
            RouteReloadFailures failures) throws Exception {
        PropertiesComponent properties = camel.getPropertiesComponent();
        Path dir = Path.of(Settings.text(properties, "gateway.pipelines-dir", "routes/pipelines"));
        long pollMillis = Settings.number(properties, "gateway.pipelines-poll-ms", 1000);
        int maxBytes = (int) Settings.number(properties, "gateway.pipelines-max-bytes", 262144);
        DestinationCheck destinations = new DestinationCheck(vertx,
                AllowedHosts.parse(Settings.text(properties, "gateway.pipelines-allowed-hosts", ""),
                        "PIPELINES_ALLOWED_HOSTS"));
        PipelineFetch fetch = new PipelineFetch(vertx, destinations,
                Settings.number(properties, "gateway.pipelines-fetch-timeout-ms", 10000), maxBytes);

        Pipelines pipelines = new Pipelines(new PipelineRoutes(camel), vertx,
                id -> config.catalog().resolve(id).isPresent());
        PipelineFolder folder = new PipelineFolder(dir, pipelines, failures);
        Registry registry = camel.getRegistry();
        registry.bind("pipelines", pipelines);
        registry.bind("pipelineInlets", new FilterInlets(pipelines));
        registry.bind("pipelineOutlets", new FilterOutlets());
        registry.bind("pipelinePipe", new PipeEntry(pipelines));
        registry.bind("pipelineList", new PipelineList(pipelines, folder));
        registry.bind("pipelineAdd", new PipelineAdd(vertx, folder, fetch, keys, maxBytes));
        registry.bind("pipelineDelete", new PipelineDelete(vertx, folder));
        registry.bind("pipelineReload", new PipelineReload(vertx, pipelines, folder));

        camel.addStartupListener(new StartupListener() {
            @Override
            public void onCamelContextStarted(CamelContext context, boolean alreadyStarted) {
                // read once the routes of routes/ run (below): a pipeline's steps build against them
            }

            @Override
            public void onCamelContextFullyStarted(CamelContext context, boolean alreadyStarted) {
                Map<String, String> refused = folder.scan(false);
                LOG.info("Pipelines from {}: {}{}", folder.folder(), pipelines.live(),
                        refused.isEmpty() ? "" : "; refused: " + refused.keySet());
                if (pollMillis > 0) {
                    folder.watch(vertx, pollMillis);
                }
            }
        });
        camel.addService(new ServiceSupport() {
            @Override
            protected void doStop() {
                folder.stopWatching(vertx);
                fetch.close();
            }
        });
        return pipelines;
    }
}
