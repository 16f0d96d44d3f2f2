package dev.caravan.lane;

import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Function;

import dev.caravan.config.BackendConfig;
import dev.caravan.config.Priority;
import dev.caravan.exchange.Cancellation;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.api.management.ManagedAttribute;
import org.apache.camel.api.management.ManagedOperation;
import org.apache.camel.api.management.ManagedResource;
import org.apache.camel.spi.Synchronization;
import org.apache.camel.support.AsyncProcessorSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The waiting room of a lane: at most max-concurrent exchanges pass at once; at most queue-size wait (503 with
 * retry-after beyond that); none waits longer than queue-timeout-seconds (503); one whose request is cancelled
 * (client gone, deadline passed) leaves at once. Waiters are served high before normal before low priority,
 * first come first served within a priority; when the room is full, a request of higher priority takes the
 * place of the newest waiter of the lowest priority below it, which gets the 503 instead.
 * <p>
 * This is the lane's one cap. The lane route (routes/50-lanes) acquires a slot with this processor and gives it
 * back in the doFinally around the backend call, through {@link #releaser()}: a slot is held while the upstream
 * call runs, a stream until it ends. The exchange notes the gate whose slot it holds ({@link #SLOT}), so a release
 * frees exactly the slot taken and a second release of the same visit is a no-op; a fallback that takes the request
 * to another lane (or back to this one) finds the slot already freed. As a guard against a slot lost for good, an
 * exchange that ends still holding one (stopped between the steps by a forced shutdown) gives it back when it
 * completes.
 * <p>
 * Why not a SEDA queue in front of the Throttle EIP: both park a thread per waiting request (SEDA's request-reply
 * producer waits on a latch, the Throttle's ConcurrentRequests mode on a semaphore), which a gateway holding
 * thousands of streams cannot afford, and neither orders by priority. A waiting exchange here is a callback in a
 * queue.
 * <p>
 * An operator changes a running lane from JMX: {@link #setMaxConcurrent} and {@link #setQueueSize} (the cap stays
 * exact: a raise admits waiters at once, a cut lets the calls in flight finish and admits none until below it),
 * {@link #pause()} (new requests wait in the queue, or get the 503 when it is full or their wait runs out; calls in
 * flight finish) and {@link #resume()}. Such changes live until the next gateway.yaml reload re-applies the file's
 * limits (a pause stays: the file says nothing of it) or a restart.
 */
@ManagedResource(description = "Caravan lane: concurrency cap and bounded priority queue of one backend")
public final class LaneGate extends AsyncProcessorSupport {

    /** Exchange property: the gate whose slot the exchange holds now (absent once released). */
    public static final String SLOT = "CaravanLaneSlot";

    private static final Logger LOG = LoggerFactory.getLogger(LaneGate.class);

    private final String backend;
    private final Vertx vertx;
    private final Map<Priority, ArrayDeque<Waiter>> queues = new EnumMap<>(Priority.class);
    private final WaitTimes waitTimes = new WaitTimes(1024);
    private final Processor releaser = this::release;
    private final Synchronization leftover = new Synchronization() {
        @Override
        public void onComplete(Exchange exchange) {
            release(exchange);
        }

        @Override
        public void onFailure(Exchange exchange) {
            release(exchange);
        }
    };
    private volatile int maxConcurrent;
    private volatile int queueSize;
    private volatile long queueTimeoutMillis;
    private volatile Function<String, String> circuitState = backend -> "unknown";
    private boolean paused;
    private int inFlight;
    private int waiting;
    private long admitted;
    private long rejected;

    public LaneGate(String backend, BackendConfig config, Vertx vertx) {
        this.backend = backend;
        this.vertx = vertx;
        for (Priority priority : Priority.values()) {
            queues.put(priority, new ArrayDeque<>());
        }
        configure(config);
    }

    /** New limits apply to the next admissions; a raised cap admits waiters at once. */
    public void configure(BackendConfig config) {
        this.maxConcurrent = config.maxConcurrent();
        this.queueSize = config.queueSize();
        this.queueTimeoutMillis = config.queueTimeoutSeconds() * 1000L;
        admitWaiters();
    }

    public String backend() {
        return backend;
    }

    /** Where the lane's circuit state comes from (the circuit breakers are not the lane's to import). */
    void circuitStateFrom(Function<String, String> states) {
        this.circuitState = states;
    }

    @ManagedAttribute(description = "Backend the lane leads to")
    public String getBackend() {
        return backend;
    }

    @ManagedAttribute(description = "State of the backend's circuit breaker (the worst of its models)")
    public String getCircuitState() {
        return circuitState.apply(backend);
    }

    @ManagedOperation(description = "Sets the upstream calls allowed at once, until the next gateway.yaml reload: a "
            + "raise admits waiters at once; a cut lets the calls in flight finish and admits none until below it")
    public void setMaxConcurrent(int maxConcurrent) {
        if (maxConcurrent < 1) {
            throw new IllegalArgumentException("max-concurrent must be at least 1, not " + maxConcurrent);
        }
        this.maxConcurrent = maxConcurrent;
        LOG.info("Lane lane-{}: max-concurrent set to {} (JMX)", backend, maxConcurrent);
        admitWaiters();
    }

    @ManagedOperation(description = "Sets the requests that may wait, until the next gateway.yaml reload; a cut "
            + "turns away new arrivals, the requests already waiting keep their places")
    public void setQueueSize(int queueSize) {
        if (queueSize < 0) {
            throw new IllegalArgumentException("queue-size must be at least 0, not " + queueSize);
        }
        this.queueSize = queueSize;
        LOG.info("Lane lane-{}: queue-size set to {} (JMX)", backend, queueSize);
    }

    @ManagedOperation(description = "Pauses the lane: new requests wait in its queue (503 when it is full or their "
            + "wait runs out), the calls in flight finish")
    public void pause() {
        synchronized (this) {
            paused = true;
        }
        LOG.warn("Lane lane-{} paused: no request is sent to backend '{}' until it is resumed", backend, backend);
    }

    @ManagedOperation(description = "Resumes a paused lane: waiters are admitted at once, up to max-concurrent")
    public void resume() {
        synchronized (this) {
            paused = false;
        }
        LOG.info("Lane lane-{} resumed", backend);
        admitWaiters();
    }

    @ManagedAttribute(description = "Whether the lane is paused (requests wait, none is sent upstream)")
    public synchronized boolean isPaused() {
        return paused;
    }

    public synchronized boolean paused() {
        return paused;
    }

    public int queueSize() {
        return queueSize;
    }

    public long queueTimeoutSeconds() {
        return queueTimeoutMillis / 1000;
    }

    @ManagedAttribute(description = "Upstream calls allowed at once")
    public int getMaxConcurrent() {
        return maxConcurrent;
    }

    public int maxConcurrent() {
        return maxConcurrent;
    }

    @ManagedAttribute(description = "Requests waiting at most")
    public int getQueueSize() {
        return queueSize;
    }

    @ManagedAttribute(description = "Requests holding a slot now")
    public synchronized int getInFlight() {
        return inFlight;
    }

    public synchronized int inFlight() {
        return inFlight;
    }

    @ManagedAttribute(description = "Requests waiting for a slot now")
    public synchronized int getWaiting() {
        return waiting;
    }

    public synchronized int waiting() {
        return waiting;
    }

    public synchronized int waiting(Priority priority) {
        return queues.get(priority).size();
    }

    @ManagedAttribute(description = "Requests of high priority waiting now")
    public int getWaitingHigh() {
        return waiting(Priority.HIGH);
    }

    @ManagedAttribute(description = "Requests of normal priority waiting now")
    public int getWaitingNormal() {
        return waiting(Priority.NORMAL);
    }

    @ManagedAttribute(description = "Requests of low priority waiting now")
    public int getWaitingLow() {
        return waiting(Priority.LOW);
    }

    @ManagedAttribute(description = "Requests admitted since start")
    public synchronized long getAdmitted() {
        return admitted;
    }

    @ManagedAttribute(description = "Requests refused (queue full or waited too long) since start")
    public synchronized long getRejected() {
        return rejected;
    }

    @ManagedAttribute(description = "Median wait for a slot of the last 1024 admissions, ms")
    public double getWaitP50Millis() {
        return waitTimes.percentileMillis(0.50);
    }

    @ManagedAttribute(description = "99th percentile wait for a slot of the last 1024 admissions, ms")
    public double getWaitP99Millis() {
        return waitTimes.percentileMillis(0.99);
    }

    public double waitPercentileMillis(double percentile) {
        return waitTimes.percentileMillis(percentile);
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        Priority priority = priorityOf(exchange);
        Waiter waiter;
        Waiter evicted = null;
        synchronized (this) {
            if (inFlight < maxConcurrent && waiting == 0 && !paused) {
                inFlight++;
                admitted++;
                waiter = null;
            } else {
                if (waiting >= queueSize) {
                    evicted = newestBelow(priority);
                    if (evicted == null) {
                        rejected++;
                        exchange.setException(OpenAiError.overloaded(
                                "Backend '" + backend + "' is busy: " + waiting + " requests already wait for it", 1));
                        callback.done(true);
                        return true;
                    }
                }
                waiter = new Waiter(exchange, callback, vertx.getOrCreateContext(), priority);
                queues.get(priority).addLast(waiter);
                waiting++;
            }
        }
        if (evicted != null) {
            finishWaiting(evicted, OpenAiError.overloaded(
                    "Backend '" + backend + "' is busy: a request of higher priority took this place in the queue", 1));
        }
        if (waiter == null) {
            holdSlot(exchange);
            callback.done(true);
            return true;
        }
        waiter.timer = vertx.setTimer(Math.max(1, queueTimeoutMillis), id -> leave(waiter, OpenAiError.overloaded(
                "Backend '" + backend + "' is busy: no slot freed within " + queueTimeoutMillis / 1000 + " s", 1)));
        Cancellation cancellation = exchange.getProperty(ExchangeKeys.CANCELLATION, Cancellation.class);
        if (cancellation != null) {
            cancellation.onCancel(reason -> leave(waiter, reason));
        }
        return false;
    }

    private static Priority priorityOf(Exchange exchange) {
        Object priority = exchange.getProperty(ExchangeKeys.PRIORITY);
        if (priority instanceof Priority p) {
            return p;
        }
        Priority parsed = Priority.parse(priority != null ? priority.toString()
                : exchange.getMessage().getHeader("x-priority", String.class));
        return parsed == null ? Priority.NORMAL : parsed;
    }

    /** Removes and returns the newest waiter of the lowest priority below {@code priority}, if any. */
    private Waiter newestBelow(Priority priority) {
        Priority[] all = Priority.values();
        for (int i = all.length - 1; i > priority.ordinal(); i--) {
            Waiter newest = queues.get(all[i]).pollLast();
            if (newest != null) {
                waiting--;
                rejected++;
                return newest;
            }
        }
        return null;
    }

    /** The lane route's release step (bound as laneRelease-&lt;backend&gt;): frees the slot this exchange holds here. */
    public Processor releaser() {
        return releaser;
    }

    /** Frees the exchange's slot of this gate, if it holds one; returns whether it did. */
    public boolean release(Exchange exchange) {
        if (exchange.getProperty(SLOT) != this) {
            return false;
        }
        exchange.removeProperty(SLOT);
        synchronized (this) {
            inFlight--;
        }
        admitWaiters();
        return true;
    }

    private void holdSlot(Exchange exchange) {
        exchange.setProperty(SLOT, this);
        exchange.getExchangeExtension().addOnCompletion(leftover);
    }

    private void admitWaiters() {
        while (true) {
            Waiter next;
            synchronized (this) {
                if (inFlight >= maxConcurrent || waiting == 0 || paused) {
                    return;
                }
                next = pollHighest();
                waiting--;
                inFlight++;
                admitted++;
            }
            vertx.cancelTimer(next.timer);
            long waited = System.nanoTime() - next.since;
            waitTimes.record(waited);
            next.exchange.setProperty(ExchangeKeys.LANE_WAITED_NANOS, waited);
            holdSlot(next.exchange);
            // resume on the waiter's own event loop, after the releasing exchange has finished its completion
            next.context.runOnContext(v -> next.callback.done(false));
        }
    }

    private Waiter pollHighest() {
        for (Priority priority : Priority.values()) {
            Waiter waiter = queues.get(priority).pollFirst();
            if (waiter != null) {
                return waiter;
            }
        }
        throw new IllegalStateException("waiting count and queues disagree");
    }

    private void leave(Waiter waiter, Throwable why) {
        synchronized (this) {
            if (!queues.get(waiter.priority).remove(waiter)) {
                return; // already admitted or evicted
            }
            waiting--;
            rejected++;
        }
        finishWaiting(waiter, why);
    }

    private void finishWaiting(Waiter waiter, Throwable why) {
        vertx.cancelTimer(waiter.timer);
        waiter.exchange.setException(why);
        waiter.context.runOnContext(v -> waiter.callback.done(false));
    }

    private static final class Waiter {
        final Exchange exchange;
        final AsyncCallback callback;
        final Context context;
        final Priority priority;
        final long since = System.nanoTime();
        long timer = -1;

        Waiter(Exchange exchange, AsyncCallback callback, Context context, Priority priority) {
            this.exchange = exchange;
            this.callback = callback;
            this.context = context;
            this.priority = priority;
        }
    }
}
