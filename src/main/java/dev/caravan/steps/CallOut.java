package dev.caravan.steps;

import java.net.URI;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.KeyConfig;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The call-out hook step (kamelet call-out-action): POSTs the conversation to an external HTTP service (memory,
 * moderation, enrichment) on the gateway's Vert.x client, without blocking, and applies its JSON answer to the request
 * ({@link CallOutAnswer}). A service that does not answer within the timeout, or answers other than 2xx JSON, is
 * skipped (fail open, the default) or fails the request (fail closed: 503 call_out_unavailable when it could not be
 * reached in time, 502 call_out_failed for a bad answer). With a shared secret every call is signed ({@link
 * CallOutSignature}). The URL is the operator's own configuration; redirects are not followed.
 */
public final class CallOut extends AsyncProcessorSupport {

    private static final Logger LOG = LoggerFactory.getLogger(CallOut.class);
    private static final long WARN_INTERVAL_NANOS = 10_000_000_000L;
    /** A service's answer larger than this is a bad answer, not a memory problem. */
    private static final int MAX_ANSWER_BYTES = 1 << 20;

    private Vertx vertx;
    private String url;
    private long timeoutMillis = 2000;
    private boolean failClosed;
    private boolean wholeRequest;
    private String secret = "";
    private RequestOptions target;
    private HttpClient client;
    private final AtomicLong nextWarning = new AtomicLong(Long.MIN_VALUE);

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        ObjectNode request;
        byte[] body;
        try {
            request = StepBody.request(exchange);
            body = Json.bytes(payload(exchange, request));
        } catch (RuntimeException e) {
            exchange.setException(e);
            callback.done(true);
            return true;
        }
        Context context = Vertx.currentContext();
        AtomicBoolean finished = new AtomicBoolean();
        long timer = vertx().setTimer(timeoutMillis, t -> {
            if (finished.compareAndSet(false, true)) {
                failed(exchange, new CallOutFailure(true, "no answer within " + timeoutMillis + " ms"));
                resume(context, callback);
            }
        });
        RequestOptions options = new RequestOptions(target()).setMethod(HttpMethod.POST).setFollowRedirects(false)
                .putHeader("content-type", "application/json").putHeader("accept", "application/json");
        Object requestId = exchange.getProperty(ExchangeKeys.REQUEST_ID);
        if (requestId != null) {
            options.putHeader("x-request-id", requestId.toString());
        }
        if (!secret.isEmpty()) {
            long now = System.currentTimeMillis() / 1000;
            options.putHeader(CallOutSignature.TIMESTAMP_HEADER, Long.toString(now));
            options.putHeader(CallOutSignature.SIGNATURE_HEADER, CallOutSignature.sign(secret, now, body));
        }
        client().request(options)
                .compose(r -> r.send(Buffer.buffer(body)))
                .compose(response -> {
                    if (response.statusCode() / 100 != 2) {
                        response.end();
                        return Future.failedFuture(
                                new CallOutFailure(false, "answered HTTP " + response.statusCode()));
                    }
                    return response.body();
                })
                .onComplete(ar -> {
                    if (!finished.compareAndSet(false, true)) {
                        return; // the timeout answered already
                    }
                    vertx().cancelTimer(timer);
                    if (ar.failed()) {
                        failed(exchange, ar.cause() instanceof CallOutFailure f ? f
                                : new CallOutFailure(true, "could not be reached: " + ar.cause().getMessage()));
                    } else {
                        answered(exchange, request, ar.result());
                    }
                    resume(context, callback);
                });
        return false;
    }

    /** The conversation (messages or prompt, model, the key's name, request id), or the whole request. */
    private ObjectNode payload(Exchange exchange, ObjectNode request) {
        if (wholeRequest) {
            return request;
        }
        ObjectNode payload = Json.object();
        payload.put("model", request.path("model").asText(null));
        if (request.has("messages")) {
            payload.set("messages", request.get("messages"));
        }
        if (request.has("prompt")) {
            payload.set("prompt", request.get("prompt"));
        }
        KeyConfig key = exchange.getProperty(ExchangeKeys.KEY, KeyConfig.class);
        payload.put("key", key == null ? null : key.name());
        Object requestId = exchange.getProperty(ExchangeKeys.REQUEST_ID);
        payload.put("request_id", requestId == null ? null : requestId.toString());
        return payload;
    }

    private void answered(Exchange exchange, ObjectNode request, Buffer body) {
        JsonNode answer;
        try {
            if (body.length() > MAX_ANSWER_BYTES) {
                throw new CallOutFailure(false, "answered more than " + MAX_ANSWER_BYTES + " bytes");
            }
            answer = body.length() == 0 ? Json.object() : Json.MAPPER.readTree(body.getBytes());
            if (answer == null || !answer.isObject()) {
                throw new CallOutFailure(false, "answered something other than a JSON object");
            }
        } catch (CallOutFailure f) {
            failed(exchange, f);
            return;
        } catch (Exception e) {
            failed(exchange, new CallOutFailure(false, "answered something other than JSON"));
            return;
        }
        try {
            CallOutAnswer.apply(answer, request);
        } catch (RuntimeException e) {
            exchange.setException(e); // a deny verdict
        }
    }

    private void failed(Exchange exchange, CallOutFailure failure) {
        if (failClosed) {
            exchange.setException(failure.unreachable()
                    ? new OpenAiError(503, "server_error", "call_out_unavailable", null,
                            "A service the gateway consults did not answer; try again later", 1, null)
                    : new OpenAiError(502, "upstream_error", "call_out_failed", null,
                            "A service the gateway consults gave an answer it could not use", 0, null));
            LOG.debug("Call-out to {} {}: the request fails (fail closed)", url, failure.getMessage());
            return;
        }
        long now = System.nanoTime();
        long due = nextWarning.get();
        if ((due == Long.MIN_VALUE || now - due >= 0) && nextWarning.compareAndSet(due, now + WARN_INTERVAL_NANOS)) {
            LOG.warn("Call-out to {} {}: requests go on without it (fail open)", url, failure.getMessage());
        }
    }

    /** Back on the request's own event loop, where the route went in. */
    private static void resume(Context context, AsyncCallback callback) {
        if (context == null || Vertx.currentContext() == context) {
            callback.done(false);
        } else {
            context.runOnContext(v -> callback.done(false));
        }
    }

    private Vertx vertx() {
        if (vertx == null) {
            throw new IllegalStateException("call-out has no Vert.x (property vertx: #bean:vertx)");
        }
        return vertx;
    }

    private synchronized RequestOptions target() {
        if (target == null) {
            if (url == null || url.isBlank()) {
                throw new IllegalStateException("call-out has no url");
            }
            URI uri = URI.create(url.trim());
            boolean tls = "https".equalsIgnoreCase(uri.getScheme());
            if (!tls && !"http".equalsIgnoreCase(uri.getScheme())) {
                throw new IllegalArgumentException("call-out url must be http or https: " + url);
            }
            String path = (uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath())
                    + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
            target = new RequestOptions().setHost(uri.getHost()).setPort(uri.getPort() > 0 ? uri.getPort()
                    : tls ? 443 : 80).setSsl(tls).setURI(path);
        }
        return target;
    }

    private synchronized HttpClient client() {
        if (client == null) {
            client = vertx().createHttpClient(new HttpClientOptions()
                    .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMillis))
                    .setKeepAlive(true).setMaxPoolSize(32));
        }
        return client;
    }

    /** Why a call-out did not give an answer to apply; unreachable (timeout, connection) or a bad answer. */
    private static final class CallOutFailure extends RuntimeException {
        private final boolean unreachable;

        CallOutFailure(boolean unreachable, String message) {
            super(message, null, false, false);
            this.unreachable = unreachable;
        }

        boolean unreachable() {
            return unreachable;
        }
    }

    public void setVertx(Vertx vertx) {
        this.vertx = vertx;
    }

    public void setUrl(String url) {
        this.url = url;
        this.target = null;
        target();
    }

    public void setTimeoutMs(long timeoutMillis) {
        if (timeoutMillis <= 0) {
            throw new IllegalArgumentException("call-out timeout-ms must be positive");
        }
        this.timeoutMillis = timeoutMillis;
    }

    /** open (default: the request goes on without the service) or closed (the request fails). */
    public void setFailMode(String mode) {
        switch (mode == null ? "" : mode.trim()) {
            case "", "open" -> failClosed = false;
            case "closed" -> failClosed = true;
            default -> throw new IllegalArgumentException("call-out fail-mode must be open or closed, not " + mode);
        }
    }

    /** conversation (default: messages or prompt, model, key, request_id) or request (the whole request). */
    public void setPayload(String payload) {
        switch (payload == null ? "" : payload.trim()) {
            case "", "conversation" -> wholeRequest = false;
            case "request" -> wholeRequest = true;
            default -> throw new IllegalArgumentException("call-out payload must be conversation or request, not "
                    + payload);
        }
    }

    /** SUITE_SHARED_SECRET (gateway.suite-shared-secret): signs every call when set. */
    public void setSecret(String secret) {
        this.secret = secret == null ? "" : secret.trim();
    }

    @Override
    protected void doStop() {
        synchronized (this) {
            if (client != null) {
                client.close();
                client = null;
            }
        }
    }
}
