package dev.caravan.backend;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.caravan.config.BackendConfig;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;

/**
 * One pooled keep-alive HTTP client per backend, sized to the backend's max-concurrent so that a lane's
 * slots never wait for a connection. Rebuilt when a backend's settings change.
 */
public final class Upstreams {

    private final Vertx vertx;
    private final Map<String, Entry> clients = new ConcurrentHashMap<>();

    public Upstreams(Vertx vertx) {
        this.vertx = vertx;
    }

    public HttpClient client(String backendName, BackendConfig backend) {
        Entry entry = clients.get(backendName);
        if (entry != null && entry.config.equals(backend)) {
            return entry.client;
        }
        return clients.compute(backendName, (name, old) -> {
            if (old != null && old.config.equals(backend)) {
                return old;
            }
            if (old != null) {
                old.client.close(); // in-flight calls on it finish; new calls use the new client
            }
            return new Entry(backend, create(backend));
        }).client;
    }

    private HttpClient create(BackendConfig backend) {
        HttpClientOptions options = new HttpClientOptions()
                .setKeepAlive(true)
                .setTcpNoDelay(true)
                .setConnectTimeout(10_000)
                .setMaxInitialLineLength(16 * 1024)
                .setDecompressionSupported(true)
                .setTrustAll(false);
        PoolOptions pool = new PoolOptions()
                .setHttp1MaxSize(Math.max(backend.maxConcurrent(), 8) + 8)
                .setMaxWaitQueueSize(-1);
        return vertx.createHttpClient(options, pool);
    }

    public void close() {
        clients.values().forEach(e -> e.client.close());
        clients.clear();
    }

    private record Entry(BackendConfig config, HttpClient client) {
    }
}
