package dev.caravan;

import java.nio.file.Path;

import dev.caravan.api.ErrorReply;
import dev.caravan.api.CaravanConsole;
import dev.caravan.api.EventLoopHttpEngine;
import dev.caravan.api.GatewayHealthChecks;
import dev.caravan.api.HealthReport;
import dev.caravan.api.LaneView;
import dev.caravan.api.ManagementGuard;
import dev.caravan.api.ModelListing;
import dev.caravan.api.ReadinessReport;
import dev.caravan.api.ServerScaleOut;
import dev.caravan.api.StartupGate;
import dev.caravan.backend.Adapters;
import dev.caravan.backend.BackendRouteSteps;
import dev.caravan.backend.OpenAiAdapter;
import dev.caravan.backend.Upstreams;
import dev.caravan.backend.local.LocalAdapter;
import dev.caravan.config.AllOrNothingRouteReload;
import dev.caravan.config.ApiKeys;
import dev.caravan.config.BackendType;
import dev.caravan.config.Defaults;
import dev.caravan.config.GatewayConfigLoader;
import dev.caravan.config.JsonBodyConversions;
import dev.caravan.config.ListedModels;
import dev.caravan.config.LiveConfig;
import dev.caravan.config.ManagedConfig;
import dev.caravan.config.RouteReloadFailures;
import dev.caravan.exchange.Jmx;
import dev.caravan.hooks.AdminAuth;
import dev.caravan.hooks.ModelRouter;
import dev.caravan.hooks.Reject;
import dev.caravan.hooks.RequestIdHook;
import dev.caravan.hooks.RequestValidator;
import dev.caravan.hooks.SetReplyHeader;
import dev.caravan.hooks.TrafficControl;
import dev.caravan.hooks.UsageCost;
import dev.caravan.lane.LaneRegistry;
import dev.caravan.observe.AccessLog;
import dev.caravan.observe.StepTimings;
import dev.caravan.observe.MetricsScrape;
import dev.caravan.observe.RequestMetrics;
import dev.caravan.pipelines.PipelineBeans;
import dev.caravan.pipelines.Pipelines;
import dev.caravan.resilience.Resilience;
import dev.caravan.state.RedisConnection;
import dev.caravan.stream.StreamHooks;
import dev.caravan.tasks.Tasks;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.PropertyInject;
import org.apache.camel.Service;
import org.apache.camel.StartupListener;
import org.apache.camel.component.micrometer.MicrometerConstants;
import org.apache.camel.component.platform.http.PlatformHttpConstants;
import org.apache.camel.component.platform.http.main.MainHttpServer;
import org.apache.camel.spi.Registry;
import org.apache.camel.support.LifecycleStrategySupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's beans, by the names routes/ refers to them: one Vert.x for the server and the upstream
 * clients, the live configuration, the adapters, the lanes and the hooks.
 */
public class GatewayConfiguration implements CamelConfiguration {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayConfiguration.class);

    @PropertyInject(value = "gateway.config", defaultValue = "gateway.yaml")
    private String configFile;
    @PropertyInject(value = "gateway.default-max-concurrent", defaultValue = "8")
    private int defaultMaxConcurrent;
    @PropertyInject(value = "gateway.default-queue-size", defaultValue = "64")
    private int defaultQueueSize;
    @PropertyInject(value = "gateway.default-queue-timeout-seconds", defaultValue = "30")
    private int defaultQueueTimeoutSeconds;
    @PropertyInject(value = "gateway.default-timeout-seconds", defaultValue = "300")
    private int defaultTimeoutSeconds;
    @PropertyInject(value = "gateway.local.token-delay-ms", defaultValue = "15")
    private long localTokenDelayMillis;
    @PropertyInject(value = "gateway.config-poll-ms", defaultValue = "1000")
    private long configPollMillis;
    @PropertyInject(value = "gateway.redis-url", defaultValue = "")
    private String redisUrl;
    @PropertyInject(value = "gateway.server.event-loops", defaultValue = "0")
    private int serverEventLoops;
    @PropertyInject(value = "gateway.max-upstream-reply-bytes", defaultValue = "33554432")
    private long maxUpstreamReplyBytes;
    @PropertyInject(value = "camel.server.host", defaultValue = "auto")
    private String serverHost;
    @PropertyInject(value = "gateway.health-redis-timeout-ms", defaultValue = "500")
    private long healthRedisTimeoutMillis;
    @PropertyInject(value = "gateway.log-format", defaultValue = "text")
    private String logFormat;
    @PropertyInject(value = "gateway.routes-reload-enabled", defaultValue = "false")
    private boolean routesReloadEnabled;
    @PropertyInject(value = "camel.main.routes-reload-directory", defaultValue = "routes")
    private String routesReloadDirectory;
    @PropertyInject(value = "camel.main.routes-reload-pattern", defaultValue = "*.camel.yaml")
    private String routesReloadPattern;
    @PropertyInject(value = "gateway.health.backends-in-readiness", defaultValue = "false")
    private boolean backendsInReadiness;
    @PropertyInject(value = "camel.management.jolokia-enabled", defaultValue = "false")
    private boolean jolokiaEnabled;
    @PropertyInject(value = "camel.management.jolokia-path", defaultValue = "/observe/jolokia")
    private String jolokiaPath;
    @PropertyInject(value = "camel.management.dev-console-enabled", defaultValue = "false")
    private boolean devConsoleEnabled;

    @Override
    public void configure(CamelContext camel) throws Exception {
        Registry registry = camel.getRegistry();
        JsonBodyConversions.register(camel);
        Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
        registry.bind("vertx", Vertx.class, vertx);
        // until the lanes exist, every request gets 503 not_ready (and /health/ready 503) instead of a 404 or a
        // half-built pipeline
        StartupGate startup = new StartupGate();
        registry.bind(PlatformHttpConstants.PLATFORM_HTTP_ENGINE_NAME, new EventLoopHttpEngine());
        registry.bind("readinessReport", new ReadinessReport(startup));
        registry.bind(StreamHooks.BEAN, new StreamHooks(camel));
        // the hook contract's own steps, behind the reject-action and reply-header-action kamelets
        registry.bind("reject", new Reject());
        registry.bind("setReplyHeader", new SetReplyHeader());
        startup.attach(camel);

        // gateway.retry.* and gateway.circuit.*: the defaults of each backend's retry: and circuit-breaker:
        Defaults defaults = new Defaults(defaultMaxConcurrent, defaultQueueSize, defaultQueueTimeoutSeconds,
                defaultTimeoutSeconds, Resilience.retryDefaults(camel.getPropertiesComponent()),
                Resilience.circuitDefaults(camel.getPropertiesComponent()));
        GatewayConfigLoader loader = new GatewayConfigLoader(Path.of(configFile), defaults, System::getenv);
        LiveConfig config = new LiveConfig(loader);
        registry.bind("liveConfig", config);

        // shared state lives in Redis when REDIS_URL is set; each feature falls back to memory without this bean
        RedisConnection redis = redisUrl == null || redisUrl.isBlank() ? null : new RedisConnection(vertx, redisUrl.trim());
        if (redis != null) {
            registry.bind("redisConnection", redis);
        }

        Upstreams upstreams = new Upstreams(vertx, maxUpstreamReplyBytes);
        Adapters adapters = new Adapters()
                .register(BackendType.OPENAI, new OpenAiAdapter(upstreams))
                .register(BackendType.OLLAMA, new dev.caravan.backend.OllamaAdapter(upstreams))
                .register(BackendType.TGI, new dev.caravan.backend.TgiAdapter(upstreams))
                .register(BackendType.LOCAL, new LocalAdapter(vertx, localTokenDelayMillis));
        registry.bind("adapters", adapters);
        // retries, a circuit breaker per backend, fallbacks and the request deadline: requestDeadline, circuitCheck,
        // nextFallback, circuitBreakers
        Resilience resilience = Resilience.bind(camel, config, vertx);
        // the step of each backend route, bound to its protocol's adapter: openaiCall, ollamaCall, tgiCall, localCall
        // (anthropicCall, geminiCall: 501 until they have adapters)
        BackendRouteSteps.bind(registry, adapters, vertx, resilience.circuits());

        registry.bind("requestId", new RequestIdHook());
        registry.bind("requestValidator", new RequestValidator());
        registry.bind("modelRouter", new ModelRouter(config));
        registry.bind("usageCost", new UsageCost());
        registry.bind("errorReply", new ErrorReply());
        // keys (gateway.yaml + API_KEYS_JSON), ADMIN_API_KEY, per-key rate limits: apiKeyAuth, modelAccess,
        // adminAuth, debugSwitch, rateLimit, tokenSettlement
        ApiKeys apiKeys = TrafficControl.bind(camel, config, vertx, redis);
        // without HOST, auth off binds loopback only
        String host = dev.caravan.config.ListenHost.choose(serverHost, apiKeys.authOff());
        bindHttpServerTo(camel, host);
        // background tasks and the dead-letter queue (memory, or Redis): taskEnqueue, taskStatus, the tasks-worker
        // steps, deadLetterRecord (the dead-letter route), deadLetterList, deadLetterReplay
        Tasks.install(camel, vertx, redis);

        // camel-micrometer finds this registry by its name and adds route metrics to it
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(meters);
        new JvmThreadMetrics().bindTo(meters);
        registry.bind(MicrometerConstants.METRICS_REGISTRY_NAME, meters);
        // ids upstreams listed at /v1/models: the bounded set of model labels beyond the configured ones
        ListedModels listedModels = new ListedModels();
        // routes/pipelines/: filters (pre- and post-hooks) and pipes (models of their own), with their admin API
        // refused edits of routes/ files and of pipeline files: /health shows them, /metrics counts them
        RouteReloadFailures reloadFailures = new RouteReloadFailures();
        Pipelines pipelines = PipelineBeans.install(camel, vertx, config, apiKeys, reloadFailures);
        ModelListing modelListing = new ModelListing(config, adapters, listedModels, pipelines::pipeIds);
        registry.bind("requestMetrics", new RequestMetrics(meters, config, listedModels));
        registry.bind("accessLog", new AccessLog(logFormat));
        // times the steps of a request that asked x-caravan-debug (README "Debugging a request"); routes built from here on
        camel.getCamelContextExtension().addInterceptStrategy(new StepTimings());
        registry.bind("metricsScrape", new MetricsScrape(meters));
        resilience.circuits().observe(meters);

        LaneRegistry lanes = new LaneRegistry(camel, vertx, resilience.circuits()::state);
        registry.bind("lanes", lanes);
        registry.bind("modelListing", modelListing);
        registry.bind("laneView", new LaneView(config, lanes, resilience.circuits()));
        // routes/ edits apply only once the edited file's routes all build; refusals show in /health and /metrics
        if (routesReloadEnabled) {
            camel.addService(new AllOrNothingRouteReload(routesReloadDirectory, routesReloadPattern, reloadFailures));
        }
        FunctionCounter.builder("caravan.route.reload.failures", reloadFailures, RouteReloadFailures::refusedTotal)
                .description("Edits of routes/ files refused because they did not parse or build").register(meters);
        AdminAuth adminAuth = registry.lookupByNameAndType("adminAuth", AdminAuth.class);
        registry.bind("healthReport", new HealthReport(config, lanes, redis, resilience.circuits(), reloadFailures,
                startup, adminAuth::admits, vertx, healthRedisTimeoutMillis));
        // the management port (README "Health checks, dev console, Jolokia"): Camel's health checks with Caravan's
        // (gateway readiness, lanes, backends, Redis), the dev console's Caravan page, Jolokia behind the admin key
        new GatewayHealthChecks(startup, lanes, resilience.circuits(), redis, vertx, healthRedisTimeoutMillis,
                backendsInReadiness).attach(camel);
        new CaravanConsole(config, lanes, resilience.circuits(), startup).attach(camel);
        new ManagementGuard(apiKeys).attach(camel, jolokiaPath, jolokiaEnabled, devConsoleEnabled);

        ServerScaleOut scaleOut = new ServerScaleOut();
        camel.addStartupListener(new StartupListener() {
            @Override
            public void onCamelContextStarted(CamelContext context, boolean alreadyStarted) {
                // lanes are made once the context runs (see below)
            }

            @Override
            public void onCamelContextFullyStarted(CamelContext context, boolean alreadyStarted) {
                // the lane template comes with routes/; routes added to a running context start at once.
                // Until then a request gets 503 "starting". Lanes follow gateway.yaml from then on.
                // Caravan's MBeans beside the context's routes (README "JMX"): lanes (below), circuits, configuration
                resilience.circuits().manage(context);
                Jmx.register(context, new ManagedConfig(config), ManagedConfig.TYPE, ManagedConfig.NAME);
                lanes.apply(config.catalog());
                config.onChange(lanes::apply);
                scaleOut.start(context, vertx, serverEventLoops > 0 ? serverEventLoops
                        : Runtime.getRuntime().availableProcessors(), host);
                config.watch(vertx, configPollMillis);
                if (apiKeys.authOff()) {
                    LOG.warn("No API keys are configured: AUTH IS OFF, anyone who reaches this port may use it");
                }
                startup.open();
            }
        });
        camel.addService(new VertxCloser(vertx, upstreams, config, scaleOut, redis));
    }

    /**
     * camel-main has read camel.server.* before this class runs, so an override property comes too late: the host is
     * set on its HTTP server itself, which reads it when it starts (ServerScaleOut's servers then bind the same).
     */
    private static void bindHttpServerTo(CamelContext camel, String host) {
        MainHttpServer server = camel.hasService(MainHttpServer.class);
        if (server != null) {
            server.setHost(host);
            return;
        }
        camel.addLifecycleStrategy(new LifecycleStrategySupport() {
            @Override
            public void onServiceAdd(CamelContext context, Service service, org.apache.camel.Route route) {
                if (service instanceof MainHttpServer http) {
                    http.setHost(host);
                }
            }
        });
    }
}
