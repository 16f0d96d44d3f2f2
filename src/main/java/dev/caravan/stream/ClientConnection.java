package dev.caravan.stream;

import dev.caravan.exchange.Cancellation;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.http.HttpServerResponse;

/**
 * Ties a request's {@link Cancellation} to its client's connection: when the client disconnects before its
 * reply ended, the request is cancelled with {@link #GONE}, so that a waiting request leaves its queue and a
 * running upstream call is aborted (its GPU slot freed) at once instead of generating to the end for nobody.
 */
public final class ClientConnection {

    /** The reason a request is cancelled when its client left; never shown to anyone (nobody is listening). */
    public static final OpenAiError GONE = new OpenAiError(499, "client_closed", "client_closed", null,
            "The client closed the connection");

    private ClientConnection() {
    }

    public static Cancellation cancellationOf(HttpServerResponse response) {
        Cancellation cancellation = new Cancellation();
        response.closeHandler(v -> cancellation.cancel(GONE));
        return cancellation;
    }

    public static boolean isClientGone(Throwable reason) {
        return reason == GONE;
    }
}
