package dev.caravan.stream;

import java.util.ArrayList;
import java.util.List;

import io.vertx.core.http.HttpServerResponse;

/**
 * Tells the gateway's steps that the client went away, so that a waiting request leaves its queue and a running
 * upstream call is aborted (its GPU slot freed) at once instead of generating to the end for nobody.
 */
public final class ClientConnection {

    private final List<Runnable> onClose = new ArrayList<>(2);
    private boolean closed;

    public ClientConnection(HttpServerResponse response) {
        response.closeHandler(v -> closed());
    }

    /** Runs {@code action} when the client disconnects before the reply ended (at once if it already has). */
    public void onClose(Runnable action) {
        boolean runNow;
        synchronized (this) {
            runNow = closed;
            if (!closed) {
                onClose.add(action);
            }
        }
        if (runNow) {
            action.run();
        }
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    private void closed() {
        List<Runnable> actions;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            actions = new ArrayList<>(onClose);
            onClose.clear();
        }
        actions.forEach(Runnable::run);
    }
}
