package dev.caravan.support;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import dev.caravan.CaravanMain;

/**
 * The gateway as an operator runs it, in a JVM of its own configured by environment variables only, for the tests
 * that kill it with SIGKILL ({@link #kill()}: no shutdown hook, no goodbye to Redis) or stop it with SIGTERM
 * ({@link #terminate()}: the graceful drain).
 */
public final class GatewayProcess implements AutoCloseable {

    private final Process process;
    private final int port;
    private final Path config;
    private final Path log;

    private GatewayProcess(Process process, int port, Path config, Path log) {
        this.process = process;
        this.port = port;
        this.config = config;
        this.log = log;
    }

    /** Starts it with this gateway.yaml and these extra environment variables, and waits until /health answers. */
    public static GatewayProcess start(String gatewayYaml, Map<String, String> env) throws IOException {
        Path config = Files.createTempFile("caravan-process", ".yaml");
        Files.writeString(config, gatewayYaml);
        Path log = Files.createTempFile("caravan-process", ".log");
        int port = GatewayInstance.freePort();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                CaravanMain.class.getName()).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> environment = builder.environment();
        environment.put("PORT", Integer.toString(port));
        environment.put("HOST", "127.0.0.1");
        environment.put("MANAGEMENT_PORT", Integer.toString(GatewayInstance.freePort()));
        environment.put("GATEWAY_CONFIG", config.toString());
        environment.put("LOG_LEVEL", "WARN");
        environment.put("ROUTES_RELOAD", "false");
        environment.put("EVENT_LOOPS", "1");
        environment.putAll(env);
        GatewayProcess gateway = new GatewayProcess(builder.start(), port, config, log);
        try {
            gateway.awaitHealthy(Duration.ofSeconds(60));
        } catch (IOException | RuntimeException e) {
            gateway.close();
            throw e;
        }
        return gateway;
    }

    public int port() {
        return port;
    }

    /** SIGKILL, and waits until the process is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the gateway process did not die");
        }
    }

    /** SIGTERM (Process.destroy on Linux): what Kubernetes, docker stop and systemd send; the gateway drains. */
    public void terminate() {
        process.destroy();
    }

    /** Waits for the process to exit and returns its exit code. */
    public int awaitExit(Duration within) throws InterruptedException, IOException {
        if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("the gateway process did not exit within " + within + ":\n" + log());
        }
        return process.exitValue();
    }

    /** What the process wrote so far (stdout and stderr). */
    public String log() throws IOException {
        return Files.readString(log);
    }

    private void awaitHealthy(Duration within) throws IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() - deadline < 0) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the gateway process exited with " + process.exitValue() + ":\n"
                        + Files.readString(log));
            }
            try {
                HttpResponse<String> health = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/health")).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                if (health.statusCode() == 200 && health.body().contains("\"backends\"")) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            LockSupport.parkNanos(100_000_000);
        }
        throw new IllegalStateException("the gateway process did not become healthy within " + within + ":\n"
                + Files.readString(log));
    }

    @Override
    public void close() throws IOException {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
        Files.deleteIfExists(config);
        Files.deleteIfExists(log);
    }
}
