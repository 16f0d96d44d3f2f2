package dev.caravan.api;

import dev.caravan.config.ApiKeys;
import dev.caravan.config.KeyHeaders;
import dev.caravan.observe.AccessLog;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * What the gateway checks from the request head alone, before Camel's body handler reads a byte of the body: so a
 * refused request costs no memory. In order: a Content-Encoding other than identity (415); two Authorization or two
 * x-api-key headers (400); with auth on, a request with a body and no valid key (401); with auth off, a cross-site
 * browser request (403 for an Origin of another site, 415 for a POST that is not JSON); and the budget of body
 * bytes of all requests in flight (503). A refused request whose body is unread has its connection closed after
 * the reply. The checks are header lookups and compares, plus one SHA-256 of the key when auth is on.
 */
final class EdgeGate implements Handler<RoutingContext> {

    private static final String JSON = "application/json";

    private final ApiKeys keys;
    private final BodyBudget budget;
    private final long maxBodyBytes;

    EdgeGate(ApiKeys keys, BodyBudget budget, long maxBodyBytes) {
        this.keys = keys;
        this.budget = budget;
        this.maxBodyBytes = maxBodyBytes;
    }

    /** Placed before every route of the router, so before each endpoint's body handler. */
    static void install(Router router, ApiKeys keys, EdgeSettings settings) {
        EdgeGate gate = new EdgeGate(keys, new BodyBudget(settings.maxInflightBodyBytes()), settings.maxBodyBytes());
        router.route().order(Integer.MIN_VALUE).handler(gate);
    }

    @Override
    public void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        MultiMap headers = request.headers();
        long bodyBytes = bodyBytes(headers);
        String encoding = headers.get(HttpHeaders.CONTENT_ENCODING);
        if (encoding != null && !encoding.trim().equalsIgnoreCase("identity")) {
            refuse(ctx, new OpenAiError(415, "invalid_request_error", "unsupported_content_encoding", null,
                    "Content-Encoding is not supported: send the body uncompressed"), bodyBytes);
            return;
        }
        String authorization = headers.get(KeyHeaders.AUTHORIZATION);
        String apiKey = headers.get(KeyHeaders.X_API_KEY);
        if (authorization != null && headers.getAll(KeyHeaders.AUTHORIZATION).size() > 1
                || apiKey != null && headers.getAll(KeyHeaders.X_API_KEY).size() > 1) {
            refuse(ctx, OpenAiError.invalidRequest(null,
                    "Send one Authorization header (or one x-api-key header), not several"), bodyBytes);
            return;
        }
        if (keys != null) {
            String key = KeyHeaders.presented(authorization, apiKey);
            if (!keys.authOff()) {
                if (bodyBytes > 0 && (key == null || keys.find(key) == null && !keys.isAdmin(key))) {
                    request.response().putHeader("www-authenticate", "Bearer realm=\"caravan\"");
                    refuse(ctx, new OpenAiError(401, "invalid_request_error", "invalid_api_key", null,
                            key != null ? KeyHeaders.INCORRECT : authorization != null ? KeyHeaders.MALFORMED
                                    : KeyHeaders.MISSING), bodyBytes);
                    return;
                }
            } else if ((key == null || !keys.isAdmin(key)) && crossSite(ctx, request, headers, bodyBytes)) {
                return;
            }
        }
        if (bodyBytes > 0) {
            long reserved = Math.min(bodyBytes, maxBodyBytes);
            if (!budget.reserve(reserved)) {
                refuse(ctx, OpenAiError.overloaded("The gateway holds too many request bodies at once "
                        + "(MAX_INFLIGHT_BODY_BYTES); try again", 1), bodyBytes);
                return;
            }
            ctx.addEndHandler(v -> budget.release(reserved));
        }
        ctx.next();
    }

    /**
     * With auth off nothing proves that a request was meant: a web page the user visits could post to the
     * gateway on localhost. Browsers send Origin on such requests, and a cross-site POST without a preflight can
     * only carry a form or text content type.
     */
    private static boolean crossSite(RoutingContext ctx, HttpServerRequest request, MultiMap headers, long bodyBytes) {
        String origin = headers.get(HttpHeaders.ORIGIN);
        if (origin != null && !SameSite.is(origin, headers.get(HttpHeaders.HOST))) {
            refuse(ctx, new OpenAiError(403, "invalid_request_error", "cross_site_request", null,
                    "Cross-site requests are refused while the gateway runs without API keys"), bodyBytes);
            return true;
        }
        if (request.method() == HttpMethod.POST) {
            String type = headers.get(HttpHeaders.CONTENT_TYPE);
            boolean json = type != null && type.regionMatches(true, 0, JSON, 0, JSON.length());
            if (type != null ? !json : bodyBytes > 0) {
                refuse(ctx, new OpenAiError(415, "invalid_request_error", "unsupported_media_type", null,
                        "Send the body as JSON with Content-Type: application/json"), bodyBytes);
                return true;
            }
        }
        return false;
    }

    /** Content-Length, or MAX_BODY_BYTES-sized for a chunked body (unknown length), or 0 for none. */
    private long bodyBytes(MultiMap headers) {
        String length = headers.get(HttpHeaders.CONTENT_LENGTH);
        if (length != null) {
            try {
                return Math.max(0, Long.parseLong(length.trim()));
            } catch (NumberFormatException e) {
                return maxBodyBytes;
            }
        }
        return headers.contains(HttpHeaders.TRANSFER_ENCODING) ? maxBodyBytes : 0;
    }

    private static void refuse(RoutingContext ctx, OpenAiError error, long bodyBytes) {
        HttpServerResponse response = ctx.response();
        if (bodyBytes > 0 && !ctx.request().isEnded()) {
            // the body is never read: close once the reply is out, instead of draining it
            HttpConnection connection = ctx.request().connection();
            response.putHeader(HttpHeaders.CONNECTION, "close");
            response.endHandler(v -> connection.close());
        }
        ReplyWriter.writeError(response, error, null);
        AccessLog.refused(response.headers().get("x-request-id"), ctx.request().path(), error.status(), error.code());
    }
}
