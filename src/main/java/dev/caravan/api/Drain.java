package dev.caravan.api;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import dev.caravan.exchange.Cancellation;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.openai.OpenAiError;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.InflightRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The wait of a graceful stop, between "no new requests" ({@link StartupGate} answers them 503 draining) and Camel
 * stopping the routes: the requests, streams and tasks in flight get up to gateway.drain-grace-seconds
 * (DRAIN_GRACE_SECONDS) to finish. What is still running then is cancelled with {@link #graceEnded}: a request
 * waiting in a lane leaves it with a 503, an upstream call is aborted, and a stream ends with that error event (never
 * a clean [DONE], never a cut without a word), so that Camel, which would otherwise wait its own shutdown-timeout
 * and then drop them, finds nothing left in flight.
 * <p>
 * In flight = Camel's in-flight repository, with browsing on (camel.main.inflight-repository-browse-enabled) so that
 * the leftovers' {@link Cancellation}s can be reached at the end.
 */
final class Drain {

    /** The code of the errors a stop gives: a new request refused, or a request the grace ran out on. */
    static final String CODE = "draining";

    private static final Logger LOG = LoggerFactory.getLogger(Drain.class);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /** After the cancellations: how long their error replies and events get to go out. */
    private static final long FLUSH_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final CamelContext camel;
    private final long graceSeconds;

    Drain(CamelContext camel, long graceSeconds) {
        this.camel = camel;
        this.graceSeconds = Math.max(0, graceSeconds);
    }

    static OpenAiError refused() {
        return new OpenAiError(503, "server_error", CODE, null,
                "The gateway is shutting down; send the request again (another instance will take it)", 1, null);
    }

    OpenAiError graceEnded() {
        return new OpenAiError(503, "server_error", CODE, null, "The gateway is shutting down and this request did "
                + "not finish within the drain grace period of " + graceSeconds + " s", 1, null);
    }

    /** Waits for what is in flight to finish, up to the grace; then ends the rest. Runs on the stopping thread. */
    void await() {
        InflightRepository inflight = camel.getInflightRepository();
        long started = System.nanoTime();
        int atStart = inflight.size();
        if (atStart == 0) {
            LOG.info("Draining: nothing in flight");
            return;
        }
        LOG.info("Draining: {} exchange(s) in flight (requests, streams, tasks) get up to {} s to finish; "
                + "new requests get 503 {}", atStart, graceSeconds, CODE);
        if (waitForNone(inflight, started + TimeUnit.SECONDS.toNanos(graceSeconds))) {
            LOG.info("Drained in {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            return;
        }
        OpenAiError ended = graceEnded();
        int left = inflight.size();
        int cancelled = 0;
        for (InflightRepository.InflightExchange entry : inflight.browse()) {
            Cancellation cancellation = entry.getExchange().getProperty(ExchangeKeys.CANCELLATION, Cancellation.class);
            if (cancellation != null) {
                cancellation.cancel(ended);
                cancelled++;
            }
        }
        LOG.warn("The drain grace period of {} s ended with {} exchange(s) in flight: {} request(s) end now with a 503 "
                + "{} error (a stream: an error event)", graceSeconds, left, cancelled, CODE);
        if (!waitForNone(inflight, System.nanoTime() + FLUSH_NANOS)) {
            LOG.warn("{} exchange(s) still in flight after the drain; Camel stops them", inflight.size());
        }
    }

    private static boolean waitForNone(InflightRepository inflight, long deadline) {
        while (inflight.size() > 0) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            LockSupport.parkNanos(POLL_NANOS); // the stopping thread has nothing else to do; Camel's own wait polls too
        }
        return true;
    }
}
