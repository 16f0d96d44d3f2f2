package dev.caravan.backend;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.caravan.config.BackendConfig;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;

/**
 * Pooled keep-alive HTTP clients per backend, one set per event loop: a connection belongs to the event loop
 * that opened it, and a request from another loop would pay a thread hand-off each way (~30 µs here). Each
 * pool is sized to the backend's max-concurrent so a lane's slots never wait for a connection. A client is
 * rebuilt when its backend's settings change.
 */
public final class Upstreams {

    private final Vertx vertx;
    private final long maxReplyBytes;
    private final Map<Key, Entry> clients = new ConcurrentHashMap<>();

    /** @param maxReplyBytes MAX_UPSTREAM_REPLY_BYTES: the longest upstream reply body read whole into memory */
    public Upstreams(Vertx vertx, long maxReplyBytes) {
        this.vertx = vertx;
        this.maxReplyBytes = maxReplyBytes;
    }

    /** The longest upstream reply body read whole into memory; longer ones fail with 502. */
    public long maxReplyBytes() {
        return maxReplyBytes;
    }

    /** The client for the call's backend on the calling event loop. */
    public HttpClient client(UpstreamCall call) {
        return client(call.route().backendName(), call.backend());
    }

    public HttpClient client(String backendName, BackendConfig backend) {
        Key key = new Key(backendName, Thread.currentThread());
        Entry entry = clients.get(key);
        if (entry != null && entry.config.equals(backend)) {
            return entry.client;
        }
        return clients.compute(key, (k, old) -> {
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
                .setDecompressionSupported(true);
        PoolOptions pool = new PoolOptions()
                .setHttp1MaxSize(Math.max(backend.maxConcurrent(), 8) + 8)
                .setMaxWaitQueueSize(-1);
        return vertx.createHttpClient(options, pool);
    }

    public void close() {
        clients.values().forEach(e -> e.client.close());
        clients.clear();
    }

    private record Key(String backend, Thread eventLoop) {
    }

    private record Entry(BackendConfig config, HttpClient client) {
    }
}
