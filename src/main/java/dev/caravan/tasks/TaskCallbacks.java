package dev.caravan.tasks;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;
import dev.caravan.outbound.DestinationCheck;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * POSTs a finished task ({@code GET /tasks/{id}}'s object) to its callback_url, non-blocking, once. A callback
 * that fails or times out is logged; it never changes the task. User info in the URL becomes Basic auth. The URL
 * is checked again just before (DNS may have changed since the enqueue) and the call goes to the checked address.
 */
final class TaskCallbacks {

    private static final Logger LOG = LoggerFactory.getLogger(TaskCallbacks.class);

    private final Vertx vertx;
    private final long timeoutMillis;
    private final DestinationCheck destinations;
    private HttpClient client;

    TaskCallbacks(Vertx vertx, long timeoutMillis, DestinationCheck destinations) {
        this.vertx = vertx;
        this.timeoutMillis = timeoutMillis;
        this.destinations = destinations;
    }

    Future<Integer> post(String url, ObjectNode task) {
        String id = task.path("id").asText();
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            return Future.failedFuture(e);
        }
        return destinations.check(uri)
                .onFailure(e -> LOG.warn("The callback of task {} to {} was not sent: {}", id, redacted(url),
                        e.getMessage()))
                .compose(address -> send(uri, address, url, id, task));
    }

    private Future<Integer> send(URI uri, java.net.InetAddress address, String url, String id, ObjectNode task) {
        RequestOptions options;
        try {
            int port = uri.getPort() >= 0 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
            options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(url).setTimeout(timeoutMillis)
                    .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                    .putHeader(HttpHeaders.USER_AGENT, "caravan-tasks")
                    // connect to the address that was checked; Host and TLS name stay the URL's
                    .setServer(SocketAddress.inetSocketAddress(port, address.getHostAddress()));
            if (uri.getRawUserInfo() != null) {
                options.putHeader(HttpHeaders.AUTHORIZATION, "Basic " + Base64.getEncoder().encodeToString(
                        java.net.URLDecoder.decode(uri.getRawUserInfo(), StandardCharsets.UTF_8)
                                .getBytes(StandardCharsets.UTF_8)));
            }
        } catch (IllegalArgumentException e) {
            return Future.failedFuture(e);
        }
        return client().request(options)
                .compose(request -> request.send(Json.buffer(task)))
                .map(response -> {
                    response.body(); // read and drop the body: the connection goes back to the pool
                    return response.statusCode();
                })
                .andThen(ar -> {
                    if (ar.failed()) {
                        LOG.warn("The callback of task {} to {} failed: {}", id, redacted(url), ar.cause().toString());
                    } else if (ar.result() >= 300) {
                        LOG.warn("The callback of task {} to {} answered {}", id, redacted(url), ar.result());
                    } else {
                        LOG.debug("The callback of task {} to {} answered {}", id, redacted(url), ar.result());
                    }
                });
    }

    private synchronized HttpClient client() {
        if (client == null) {
            client = vertx.createHttpClient(new HttpClientOptions()
                    .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMillis))
                    .setMaxPoolSize(16)
                    .setKeepAlive(true));
        }
        return client;
    }

    synchronized void close() {
        if (client != null) {
            client.close();
            client = null;
        }
    }

    /** The URL for logs: without user info and query, where credentials sit. */
    static String redacted(String url) {
        try {
            URI uri = URI.create(url);
            return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                    + (uri.getRawPath() == null ? "" : uri.getRawPath());
        } catch (IllegalArgumentException e) {
            return "(an invalid URL)";
        }
    }
}
