package dev.caravan.support;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.caravan.CaravanMain;
import org.apache.camel.CamelContext;
import org.apache.camel.main.Main;

/**
 * A real gateway for a test: camel-main with the project's routes/ and application.properties, on a free
 * loopback port, with its gateway.yaml written to a temporary file. Talk to it over HTTP; stop it with close().
 */
public final class GatewayInstance implements AutoCloseable {

    private final Main main;
    private final int port;
    private int managementPort;
    private final Path configFile;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private GatewayInstance(Main main, int port, Path configFile) {
        this.main = main;
        this.port = port;
        this.configFile = configFile;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A gateway with no gateway.yaml at all: the embedded default. */
    public static GatewayInstance startDefault() {
        return builder().start();
    }

    public int port() {
        return port;
    }

    /** The management port: /observe/health, the dev console (/q/dev), Jolokia (/observe/jolokia). */
    public int managementPort() {
        return managementPort;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    public URI uri(String path) {
        return URI.create(baseUrl() + path);
    }

    public Path configFile() {
        return configFile;
    }

    public CamelContext camel() {
        return main.getCamelContext();
    }

    public HttpClient http() {
        return http;
    }

    /** POSTs JSON with the JDK client (which offers an h2c upgrade, as many real clients do). */
    public HttpResponse<String> postJson(String path, String json) {
        return send(HttpRequest.newBuilder(uri(path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    public HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET().build());
    }

    public HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Rewrites gateway.yaml; the gateway picks it up on its own (tests wait for the effect, not for time). */
    public void writeConfig(String yaml) {
        try {
            Files.writeString(configFile, yaml);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        try {
            main.stop();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            try {
                Files.deleteIfExists(configFile);
            } catch (IOException ignored) {
                // a temp file left behind is harmless
            }
        }
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static final class Builder {
        private String yaml;
        private int port;
        private final Map<String, String> properties = new LinkedHashMap<>();

        /** The port to listen on (default: a free one), for a test that must call the gateway while it starts. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** The gateway.yaml to start with; none means no file at all (the embedded default). */
        public Builder config(String gatewayYaml) {
            this.yaml = gatewayYaml;
            return this;
        }

        public Builder property(String key, String value) {
            properties.put(key, value);
            return this;
        }

        /** Routes from this folder instead of the project's (not watched). */
        public Builder routes(java.nio.file.Path routes) {
            return property("camel.main.routes-include-pattern", "file:" + routes + "/*.camel.yaml");
        }

        /** Routes from this folder instead of the project's, watched and reloaded as an operator's edits would be. */
        public Builder watchingRoutes(java.nio.file.Path routes) {
            return routes(routes)
                    .property("gateway.routes-reload-enabled", "true")
                    .property("camel.main.routes-reload-directory", routes.toString());
        }

        public GatewayInstance start() {
            int port = this.port > 0 ? this.port : freePort();
            try {
                Path dir = Files.createTempDirectory("caravan-test");
                Path config = dir.resolve("gateway.yaml");
                if (yaml != null) {
                    Files.writeString(config, yaml);
                }
                Main main = new Main(CaravanMain.class);
                CaravanMain.configure(main);
                main.addOverrideProperty("camel.main.name", "caravan-" + port);
                main.addOverrideProperty("camel.server.port", String.valueOf(port));
                main.addOverrideProperty("camel.server.host", "127.0.0.1");
                // the management port (health, console, Jolokia): one of its own per instance
                int managementPort = freePort();
                main.addOverrideProperty("camel.management.port", String.valueOf(managementPort));
                main.addOverrideProperty("camel.management.host", "127.0.0.1");
                main.addOverrideProperty("gateway.config", config.toString());
                main.addOverrideProperty("gateway.config-poll-ms", "100");
                main.addOverrideProperty("gateway.local.token-delay-ms", "0");
                main.addOverrideProperty("gateway.routes-reload-enabled", "false");
                // an empty pipelines folder of its own: the examples of routes/pipelines/ change no other test
                main.addOverrideProperty("gateway.pipelines-dir", dir.resolve("pipelines").toString());
                main.addOverrideProperty("gateway.pipelines-poll-ms", "100");
                properties.forEach(main::addOverrideProperty);
                main.start();
                GatewayInstance instance = new GatewayInstance(main, port, config);
                instance.managementPort = managementPort;
                instance.awaitLanes();
                return instance;
            } catch (Exception e) {
                throw new IllegalStateException("The gateway did not start", e);
            }
        }
    }

    /** Lanes are made once the context has fully started; wait for the first to exist. */
    private void awaitLanes() {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (camel().getRoutes().stream().anyMatch(r -> r.getRouteId().startsWith("lane-"))) {
                return;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
        }
        throw new IllegalStateException("No lane was created within 20 s");
    }
}
