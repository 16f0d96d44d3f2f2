package dev.caravan.tasks;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.apache.camel.AsyncCallback;

/** Ends an asynchronous Camel step when a Vert.x future completes. */
final class AsyncSteps {

    private AsyncSteps() {
    }

    /**
     * Completes the Camel callback when the future does: synchronously if it already has, else later, back on the
     * Vert.x context the step started on (the request's event loop), not on whichever thread completed the future.
     */
    static boolean completeWhen(Future<?> future, AsyncCallback callback) {
        if (future.isComplete()) {
            callback.done(true);
            return true;
        }
        Context context = Vertx.currentContext();
        future.onComplete(ar -> {
            if (context != null && Vertx.currentContext() != context) {
                context.runOnContext(v -> callback.done(false));
            } else {
                callback.done(false);
            }
        });
        return false;
    }
}
