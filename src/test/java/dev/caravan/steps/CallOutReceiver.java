package dev.caravan.steps;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.sun.net.httpserver.HttpServer;

/**
 * The external service a call-out talks to, on loopback: it verifies each call's signature as the README tells a
 * receiver to (its own HMAC code, not the gateway's) and answers what the test set.
 */
final class CallOutReceiver implements AutoCloseable {

    record Call(String timestamp, String signature, String body, boolean signatureValid) {
    }

    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor();
    private final String secret;
    private volatile int status = 200;
    private volatile String answer = "{}";
    private volatile long delayMillis;
    private volatile Call last;

    private CallOutReceiver(String secret) throws IOException {
        this.secret = secret;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(threads);
        server.createContext("/", exchange -> {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            String timestamp = exchange.getRequestHeaders().getFirst("x-caravan-timestamp");
            String signature = exchange.getRequestHeaders().getFirst("x-caravan-signature");
            last = new Call(timestamp, signature, new String(body, StandardCharsets.UTF_8),
                    verify(timestamp, signature, body));
            // a slow service answers later from a timer, holding no thread while it "thinks"
            int replyStatus = status;
            byte[] reply = answer.getBytes(StandardCharsets.UTF_8);
            later.schedule(() -> {
                exchange.getResponseHeaders().add("Content-Type", "application/json");
                try {
                    exchange.sendResponseHeaders(replyStatus, reply.length);
                    try (OutputStream out = exchange.getResponseBody()) {
                        out.write(reply);
                    }
                } catch (IOException gone) {
                    // the gateway stopped waiting (its timeout)
                } finally {
                    exchange.close();
                }
            }, delayMillis, TimeUnit.MILLISECONDS);
        });
        server.start();
    }

    static CallOutReceiver start(String secret) throws IOException {
        return new CallOutReceiver(secret);
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    void answer(int status, String json, long delayMillis) {
        this.status = status;
        this.answer = json;
        this.delayMillis = delayMillis;
    }

    Call last() {
        return last;
    }

    /** sha256=hex(HMAC-SHA256(secret, timestamp + "." + body)), the timestamp within five minutes of now. */
    private boolean verify(String timestamp, String signature, byte[] body) {
        if (timestamp == null || signature == null
                || Math.abs(System.currentTimeMillis() / 1000 - Long.parseLong(timestamp)) > 300) {
            return false;
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update((timestamp + ".").getBytes(StandardCharsets.UTF_8));
            byte[] expected = ("sha256=" + HexFormat.of().formatHex(mac.doFinal(body))).getBytes(StandardCharsets.UTF_8);
            return MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            return false;
        }
    }

    @Override
    public void close() {
        server.stop(0);
        later.shutdownNow();
        threads.shutdownNow();
    }
}
