package dev.caravan.lane;

import java.util.ArrayDeque;
import java.util.Iterator;

import dev.caravan.api.ExchangeKeys;
import dev.caravan.config.BackendConfig;
import dev.caravan.openai.OpenAiError;
import dev.caravan.stream.ClientConnection;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.spi.Synchronization;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * The waiting room of a lane: at most max-concurrent exchanges pass at once, at most queue-size wait (503 with
 * retry-after beyond that), none waits longer than queue-timeout-seconds (503), and one whose client left leaves
 * the queue at once. A slot is held until the exchange completes, that is after its reply or stream ended.
 * <p>
 * Why not a SEDA queue in front of the Throttle: both park a thread per waiting request (SEDA's request-reply
 * producer waits on a latch, the Throttle's ConcurrentRequests mode on a semaphore), which a gateway holding
 * thousands of streams cannot afford. A waiting exchange here is a callback in a queue; the Throttle EIP after
 * this step still caps the upstream calls, as the route shows.
 */
public final class LaneGate extends AsyncProcessorSupport {

    /** Exchange property: the lane's max-concurrent, for the Throttle EIP that follows the gate. */
    public static final String MAX_CONCURRENT = "CaravanLaneMax";

    private final String backend;
    private final Vertx vertx;
    private final ArrayDeque<Waiter> queue = new ArrayDeque<>();
    private volatile int maxConcurrent;
    private volatile int queueSize;
    private volatile long queueTimeoutMillis;
    private int inFlight;

    public LaneGate(String backend, BackendConfig config, Vertx vertx) {
        this.backend = backend;
        this.vertx = vertx;
        configure(config);
    }

    /** New limits apply to the next admissions; a raised cap admits waiters at once. */
    public void configure(BackendConfig config) {
        this.maxConcurrent = config.maxConcurrent();
        this.queueSize = config.queueSize();
        this.queueTimeoutMillis = config.queueTimeoutSeconds() * 1000L;
        admitWaiters();
    }

    public int maxConcurrent() {
        return maxConcurrent;
    }

    public synchronized int inFlight() {
        return inFlight;
    }

    public synchronized int waiting() {
        return queue.size();
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        Waiter waiter;
        synchronized (this) {
            if (inFlight < maxConcurrent && queue.isEmpty()) {
                inFlight++;
                waiter = null;
            } else if (queue.size() >= queueSize) {
                exchange.setException(OpenAiError.overloaded(
                        "Backend '" + backend + "' is busy: " + queue.size() + " requests already wait for it", 1));
                callback.done(true);
                return true;
            } else {
                waiter = new Waiter(exchange, callback, vertx.getOrCreateContext());
                queue.addLast(waiter);
            }
        }
        if (waiter == null) {
            holdSlotUntilDone(exchange);
            callback.done(true);
            return true;
        }
        waiter.timer = vertx.setTimer(Math.max(1, queueTimeoutMillis), id -> leave(waiter, OpenAiError.overloaded(
                "Backend '" + backend + "' is busy: no slot freed within " + queueTimeoutMillis / 1000 + " s", 1)));
        ClientConnection client = exchange.getProperty(ExchangeKeys.CLIENT, ClientConnection.class);
        if (client != null) {
            client.onClose(() -> leave(waiter, new OpenAiError(499, "client_closed", "client_closed", null,
                    "The client closed the connection while waiting")));
        }
        return false;
    }

    private void holdSlotUntilDone(Exchange exchange) {
        exchange.setProperty(MAX_CONCURRENT, maxConcurrent); // the Throttle after the gate caps at the same number
        exchange.getExchangeExtension().addOnCompletion(new Synchronization() {
            @Override
            public void onComplete(Exchange done) {
                release();
            }

            @Override
            public void onFailure(Exchange done) {
                release();
            }
        });
    }

    private void release() {
        synchronized (this) {
            inFlight--;
        }
        admitWaiters();
    }

    private void admitWaiters() {
        while (true) {
            Waiter next;
            synchronized (this) {
                if (inFlight >= maxConcurrent || queue.isEmpty()) {
                    return;
                }
                next = queue.pollFirst();
                inFlight++;
            }
            vertx.cancelTimer(next.timer);
            holdSlotUntilDone(next.exchange);
            // resume on the waiter's own event loop, after the releasing exchange has finished its completion
            next.context.runOnContext(v -> next.callback.done(false));
        }
    }

    private void leave(Waiter waiter, OpenAiError why) {
        synchronized (this) {
            if (!removeFromQueue(waiter)) {
                return; // already admitted
            }
        }
        vertx.cancelTimer(waiter.timer);
        waiter.exchange.setException(why);
        waiter.context.runOnContext(v -> waiter.callback.done(false));
    }

    private boolean removeFromQueue(Waiter waiter) {
        for (Iterator<Waiter> it = queue.iterator(); it.hasNext(); ) {
            if (it.next() == waiter) {
                it.remove();
                return true;
            }
        }
        return false;
    }

    private static final class Waiter {
        final Exchange exchange;
        final AsyncCallback callback;
        final Context context;
        long timer = -1;

        Waiter(Exchange exchange, AsyncCallback callback, Context context) {
            this.exchange = exchange;
            this.callback = callback;
            this.context = context;
        }
    }
}
