package dev.caravan;

import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.camel.main.Main;

/**
 * Starts the gateway: routes from routes/*.camel.yaml, beans from {@link GatewayConfiguration}, settings from
 * application.properties. Run from a checkout, the files beside it are used (and routes/ is watched); run from
 * anywhere else, the copies packed in the jar.
 */
public final class CaravanMain {

    private CaravanMain() {
    }

    public static void main(String[] args) throws Exception {
        Main main = new Main(CaravanMain.class);
        configure(main);
        main.run(args);
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
