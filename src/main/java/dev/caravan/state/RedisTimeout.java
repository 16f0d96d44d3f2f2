package dev.caravan.state;

import java.util.concurrent.TimeoutException;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * Every call to Redis is bounded: a Redis that stalls fails the call after its time (a Vert.x timer, no thread
 * waits), so no request, task step or health check waits on it longer than its setting says.
 */
public final class RedisTimeout {

    private RedisTimeout() {
    }

    /** The call's outcome, or a TimeoutException when it did not complete within the time. */
    public static <T> Future<T> bound(Vertx vertx, Future<T> call, long timeoutMillis, String what) {
        Promise<T> result = Promise.promise();
        long timer = vertx.setTimer(timeoutMillis, id -> result.tryFail(new TimeoutException(
                "Redis did not answer " + what + " within " + timeoutMillis + " ms")));
        call.onComplete(ar -> {
            vertx.cancelTimer(timer);
            if (ar.succeeded()) {
                result.tryComplete(ar.result());
            } else {
                result.tryFail(ar.cause());
            }
        });
        return result.future();
    }
}
