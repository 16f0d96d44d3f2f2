package dev.caravan.pipelines;

import java.util.concurrent.Callable;

import dev.caravan.openai.OpenAiError;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;

/**
 * Admin work that reads or writes files and builds routes (which waits on Camel) runs on a Vert.x worker, never on
 * the event loop; the step completes back on the request's context with the body it made, or its failure: a
 * {@link PipelineRefused} is a 400 invalid_pipeline, an {@link OpenAiError} itself, anything else a 500.
 */
final class OffTheLoop {

    private OffTheLoop() {
    }

    static boolean run(Vertx vertx, Exchange exchange, AsyncCallback callback, Callable<Object> work) {
        return complete(vertx.executeBlocking(work, false), exchange, callback);
    }

    /** Sets the future's result as the body (or its failure as the exception) and ends the step. */
    static boolean complete(Future<Object> future, Exchange exchange, AsyncCallback callback) {
        if (future.isComplete()) {
            settle(future, exchange);
            callback.done(true);
            return true;
        }
        Context context = Vertx.currentContext();
        future.onComplete(ar -> {
            settle(future, exchange);
            if (context != null && Vertx.currentContext() != context) {
                context.runOnContext(v -> callback.done(false));
            } else {
                callback.done(false);
            }
        });
        return false;
    }

    private static void settle(Future<Object> future, Exchange exchange) {
        if (future.succeeded()) {
            exchange.getMessage().setBody(future.result());
        } else {
            exchange.setException(error(future.cause()));
        }
    }

    static OpenAiError error(Throwable failure) {
        if (failure instanceof OpenAiError error) {
            return error;
        }
        if (failure instanceof PipelineRefused refused) {
            return invalid(refused.getMessage());
        }
        return OpenAiError.internal("The pipeline change failed: " + failure.getMessage());
    }

    static OpenAiError invalid(String reason) {
        return new OpenAiError(400, "invalid_request_error", "invalid_pipeline", null, "Pipeline refused: " + reason);
    }
}
