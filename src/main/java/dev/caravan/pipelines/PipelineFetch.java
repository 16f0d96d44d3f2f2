package dev.caravan.pipelines;

import java.net.InetAddress;
import java.net.URI;

import dev.caravan.outbound.DestinationCheck;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;

/**
 * The YAML of {@code POST /pipelines/add {"url": ...}}: a GET with the non-blocking Vert.x client, to the address
 * {@link DestinationCheck} judged (PIPELINES_ALLOWED_HOSTS; loopback and private addresses only when listed), within
 * a timeout, read up to a size cap and no further. No redirects are followed: the URL named is the one checked.
 */
final class PipelineFetch {

    private final Vertx vertx;
    private final DestinationCheck destinations;
    private final long timeoutMillis;
    private final int maxBytes;
    private HttpClient client;

    PipelineFetch(Vertx vertx, DestinationCheck destinations, long timeoutMillis, int maxBytes) {
        this.vertx = vertx;
        this.destinations = destinations;
        this.timeoutMillis = timeoutMillis;
        this.maxBytes = maxBytes;
    }

    /** The text at the URL; fails with a {@link PipelineRefused} saying why not. */
    Future<String> yaml(String url) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            return Future.failedFuture(new PipelineRefused("'url' is not a valid URL"));
        }
        if (!"http".equalsIgnoreCase(uri.getScheme()) && !"https".equalsIgnoreCase(uri.getScheme())) {
            return Future.failedFuture(new PipelineRefused("'url' must be http or https"));
        }
        return destinations.check(uri)
                .recover(e -> Future.failedFuture(new PipelineRefused("the URL is refused: " + e.getMessage())))
                .compose(address -> get(uri, address));
    }

    private Future<String> get(URI uri, InetAddress address) {
        boolean tls = "https".equalsIgnoreCase(uri.getScheme());
        int port = uri.getPort() >= 0 ? uri.getPort() : tls ? 443 : 80;
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(uri.toString())
                .setTimeout(timeoutMillis).setFollowRedirects(false)
                .putHeader(HttpHeaders.ACCEPT, "application/yaml, text/yaml, text/plain, */*")
                .putHeader(HttpHeaders.USER_AGENT, "caravan-pipelines")
                // connect to the address that was checked; Host and TLS name stay the URL's
                .setServer(SocketAddress.inetSocketAddress(port, address.getHostAddress()));
        Promise<String> text = Promise.promise();
        client().request(options).onFailure(e -> text.tryFail(fetchFailed(e))).onSuccess(request -> request.send()
                .onFailure(e -> text.tryFail(fetchFailed(e)))
                .onSuccess(response -> {
                    if (response.statusCode() != 200) {
                        response.end();
                        text.tryFail(new PipelineRefused("the URL answered " + response.statusCode()));
                        return;
                    }
                    Buffer body = Buffer.buffer();
                    response.handler(chunk -> {
                        if (body.length() + chunk.length() > maxBytes) {
                            text.tryFail(new PipelineRefused("the YAML at the URL is over " + maxBytes + " bytes"));
                            request.reset(); // stop reading: the rest is never downloaded
                            return;
                        }
                        body.appendBuffer(chunk);
                    });
                    response.exceptionHandler(e -> text.tryFail(fetchFailed(e)));
                    response.endHandler(v -> text.tryComplete(body.toString()));
                }));
        return text.future();
    }

    private static PipelineRefused fetchFailed(Throwable e) {
        return new PipelineRefused("the URL could not be fetched: " + e.getMessage());
    }

    private synchronized HttpClient client() {
        if (client == null) {
            client = vertx.createHttpClient(new HttpClientOptions()
                    .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMillis)).setMaxPoolSize(4));
        }
        return client;
    }

    synchronized void close() {
        if (client != null) {
            client.close();
            client = null;
        }
    }
}
