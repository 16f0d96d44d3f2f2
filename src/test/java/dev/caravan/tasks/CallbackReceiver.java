package dev.caravan.tasks;

import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.openai.Json;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;

/** A tiny HTTP server standing in for a client's callback endpoint: records every POST it receives. */
final class CallbackReceiver implements AutoCloseable {

    record Call(String path, Map<String, String> headers, JsonNode body) {
    }

    private final Vertx vertx = Vertx.vertx();
    private final BlockingQueue<Call> calls = new LinkedBlockingQueue<>();
    private final HttpServer server;
    private final String host;

    CallbackReceiver() {
        this("127.0.0.1");
    }

    /** @param host the loopback address to listen on (127.0.0.2 is another loopback destination for a test) */
    CallbackReceiver(String host) {
        this.host = host;
        try {
            server = vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
                java.util.HashMap<String, String> headers = new java.util.HashMap<>();
                request.headers().forEach(h -> headers.put(h.getKey().toLowerCase(java.util.Locale.ROOT), h.getValue()));
                JsonNode json;
                try {
                    json = Json.MAPPER.readTree(body.getBytes());
                } catch (java.io.IOException e) {
                    json = null;
                }
                calls.add(new Call(request.path(), headers, json));
                request.response().setStatusCode(204).end();
            })).listen(0, host).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("callback receiver did not start", e);
        }
    }

    String url(String path) {
        return "http://" + host + ":" + server.actualPort() + path;
    }

    String urlWithCredentials(String user, String password, String path) {
        return "http://" + user + ":" + password + "@" + host + ":" + server.actualPort() + path;
    }

    /** The next call to this path within the timeout, or null; calls to other paths are kept for later. */
    Call await(String path, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        java.util.List<Call> others = new java.util.ArrayList<>();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                Call call = left <= 0 ? null : calls.poll(left, TimeUnit.NANOSECONDS);
                if (call == null || call.path().equals(path)) {
                    return call;
                }
                others.add(call);
            }
        } finally {
            calls.addAll(others);
        }
    }

    @Override
    public void close() {
        vertx.close();
    }
}
