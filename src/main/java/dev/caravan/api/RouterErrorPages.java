package dev.caravan.api;

import dev.caravan.openai.OpenAiError;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failures that happen before any Camel route runs (no such endpoint, wrong method, a body over MAX_BODY_BYTES,
 * an unreadable body) answered as OpenAI errors too, instead of Vert.x's plain-text pages. A catch-all route
 * placed last on the platform-http router takes what no endpoint matched, and its failure handler what the
 * body handler refused.
 */
final class RouterErrorPages {

    private static final Logger LOG = LoggerFactory.getLogger(RouterErrorPages.class);

    private RouterErrorPages() {
    }

    static void install(Router router, ReloadingPaths reloading) {
        router.route().last()
                .handler(ctx -> reply(ctx, reloading.isReloading(ctx.request().path())
                        ? OpenAiError.notReady("This endpoint is being reloaded; try again")
                        : pathKnown(router, ctx.request().path())
                        ? new OpenAiError(405, "invalid_request_error", "method_not_allowed", null,
                                "Method " + ctx.request().method() + " is not allowed on "
                                        + OpenAiError.echo(ctx.request().path()))
                        : new OpenAiError(404, "invalid_request_error", "unknown_url", null,
                                "Unknown request URL: " + ctx.request().method() + " "
                                        + OpenAiError.echo(ctx.request().path()))))
                .failureHandler(RouterErrorPages::failure);
    }

    private static void failure(RoutingContext ctx) {
        int status = ctx.statusCode();
        OpenAiError error = switch (status) {
            case 413 -> new OpenAiError(413, "invalid_request_error", "request_too_large", null,
                    "The request body is larger than this gateway accepts (MAX_BODY_BYTES)");
            case 400 -> OpenAiError.invalidRequest(null, "The request could not be read");
            default -> {
                if (ctx.failure() != null) {
                    LOG.error("Request failed before reaching a route: {} {}", ctx.request().method(),
                            ctx.request().path(), ctx.failure());
                }
                yield OpenAiError.internal("The gateway failed to process the request");
            }
        };
        if (status == 413) {
            // the rest of an oversized body is not read: close the connection once the reply is out
            ctx.response().putHeader("connection", "close");
            // (through the routing context: a plain endHandler would replace the one that frees the body budget)
            ctx.addEndHandler(v -> ctx.request().connection().close());
        }
        reply(ctx, error);
    }

    private static boolean pathKnown(Router router, String path) {
        for (Route route : router.getRoutes()) {
            String pattern = route.getPath();
            if (pattern != null && matches(pattern, path)) {
                return true;
            }
        }
        return false;
    }

    /** "/v1/models/:id" matches "/v1/models/llama3"; a trailing slash is not significant. */
    static boolean matches(String pattern, String path) {
        if (pattern.endsWith("*")) {
            return path.startsWith(pattern.substring(0, pattern.length() - 1));
        }
        String[] want = strip(pattern).split("/");
        String[] got = strip(path).split("/");
        if (want.length != got.length) {
            return false;
        }
        for (int i = 0; i < want.length; i++) {
            if (!want[i].startsWith(":") && !want[i].equals(got[i])) {
                return false;
            }
        }
        return true;
    }

    private static String strip(String path) {
        return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }

    private static void reply(RoutingContext ctx, OpenAiError error) {
        ReplyWriter.writeError(ctx.response(), error, null);
    }
}
