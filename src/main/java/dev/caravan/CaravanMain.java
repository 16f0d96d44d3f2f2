package dev.caravan;

import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.camel.main.Main;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Starts the gateway: routes from routes/*.camel.yaml, beans from {@link GatewayConfiguration}, settings from
 * application.properties. Run from a checkout, the files beside it are used (and routes/ is watched); run from
 * anywhere else, the copies packed in the jar.
 */
public final class CaravanMain {

    private static final Logger LOG = LoggerFactory.getLogger(CaravanMain.class);

    private CaravanMain() {
    }

    public static void main(String[] args) throws Exception {
        Main main = new Main(CaravanMain.class);
        configure(main);
        drainOnSigterm(main);
        int code = main.run(args);
        // a stop asked for (SIGTERM, JMX) is a success; a non-daemon thread left behind must not keep the JVM up
        System.exit(code == Integer.MIN_VALUE ? 0 : code);
    }

    /**
     * SIGTERM (Kubernetes, docker stop, systemd) stops the gateway gracefully, then the process exits 0. The JVM's own
     * handling would run camel-main's shutdown hook, which also stops Camel gracefully, but the JVM then exits 143
     * and the hook gives up after shutdown-timeout + 15 s. Here the signal only tells camel-main to stop: its main
     * thread stops Camel (readiness down, new requests 503, in-flight requests get gateway.drain-grace-seconds; see
     * api.StartupGate) and returns, and main() exits with its code.
     */
    static void drainOnSigterm(Main main) {
        try {
            Signal.handle(new Signal("TERM"), signal -> {
                LOG.info("SIGTERM: stopping gracefully");
                main.completed();
            });
        } catch (IllegalArgumentException unsupported) {
            LOG.warn("SIGTERM cannot be handled on this platform: a stop waits through camel-main's shutdown hook");
        }
    }

    /** Points camel-main at the properties and routes to use; shared with the tests. */
    public static void configure(Main main) {
        String properties = env("CARAVAN_PROPERTIES", "application.properties");
        main.setPropertyPlaceholderLocations(Files.isRegularFile(Path.of(properties))
                ? "file:" + properties : "classpath:application.properties");
        String routes = env("ROUTES_DIR", "routes");
        if (!Files.isDirectory(Path.of(routes))) {
            main.addOverrideProperty("camel.main.routes-include-pattern", "classpath:routes/*.camel.yaml");
            main.addOverrideProperty("camel.main.routes-reload-enabled", "false");
        }
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }
}
