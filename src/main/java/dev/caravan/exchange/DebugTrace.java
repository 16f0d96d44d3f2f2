package dev.caravan.exchange;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.ModelRoute;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import org.apache.camel.Exchange;
import org.apache.camel.support.SynchronizationAdapter;

/**
 * "Why did my request go there": what one request went through, kept only when an admin asked for it with
 * {@code x-caravan-debug: true} (README "Debugging a request"). The steps of the routes with their start and
 * duration (recorded by observe.StepTimings), each upstream call with its outcome (recorded by the backend call),
 * and, read off the exchange when the reply goes out, the model asked, the model and backend that served, the
 * fallbacks taken and the lane wait. A request without the header has no trace and records nothing.
 * <p>
 * One request's steps run one after the other (possibly on different threads, handed over by Camel's callbacks);
 * the methods are synchronized all the same, as they cost nothing on the requests that are not traced.
 */
public final class DebugTrace {

    /** The request header that asks for a trace, and the reply header that carries its summary. */
    public static final String HEADER = "x-caravan-debug";
    /** The JSON reply's field (and the SSE comment's name) that carries the whole trace. */
    public static final String FIELD = "caravan_debug";
    /** At most this many characters of summary in the reply header: proxies refuse heads of 8 KiB and more. */
    static final int HEADER_CAP = 4096;
    /** At most this many steps kept (a stream hook runs per chunk): the rest are counted, not kept. */
    static final int MAX_STEPS = 256;

    /** The outcome of a call not over yet: the stream whose end the trace goes out with. */
    static final String IN_PROGRESS = "in_progress";

    private final long start;
    private final List<Step> steps = new ArrayList<>(32);
    private final List<Attempt> attempts = new ArrayList<>(2);
    private int depth;
    private int dropped;

    public DebugTrace(long startNanos) {
        this.start = startNanos;
    }

    /** Traced requests not finished yet: while there are none, steps skip even the exchange-property lookup. */
    private static final AtomicInteger RUNNING = new AtomicInteger();

    /** The request's trace, or null when nobody asked for one. */
    public static DebugTrace of(Exchange exchange) {
        return exchange.getProperty(ExchangeKeys.DEBUG_TRACE, DebugTrace.class);
    }

    /** False while no request is traced: what a timed step checks first (one volatile read). */
    public static boolean anyRunning() {
        return RUNNING.get() > 0;
    }

    /** Starts the trace of {@code exchange}, counted as running until the exchange is done. */
    public static void start(Exchange exchange, long startNanos) {
        exchange.setProperty(ExchangeKeys.DEBUG_TRACE, new DebugTrace(startNanos));
        RUNNING.incrementAndGet();
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                RUNNING.decrementAndGet();
            }
        });
    }

    /** A step of route {@code route} starts; {@link #end} it when it completes. */
    public synchronized Step begin(String route, String step) {
        Step s = new Step(route, step, depth++, System.nanoTime());
        if (steps.size() < MAX_STEPS) {
            steps.add(s);
        } else {
            dropped++;
        }
        return s;
    }

    public synchronized void end(Step step, Throwable failure) {
        depth = Math.max(0, depth - 1);
        step.end = System.nanoTime();
        if (failure != null) {
            step.failure = outcome(failure);
        }
    }

    /** Upstream call number {@code n} of the current model is sent. */
    public synchronized Attempt attempt(int n, String model, String backend) {
        Attempt a = new Attempt(n, model, backend, System.nanoTime());
        attempts.add(a);
        return a;
    }

    /**
     * Upstream call {@code attempt} ended: ok (failure null) or how it failed, with the upstream's own status (0: none,
     * as when it could not be reached); {@code retryInMillis} -1: no retry.
     */
    public synchronized void ended(Attempt attempt, Throwable failure, int upstreamStatus, long firstByteNanos,
                                   long retryInMillis) {
        attempt.end = System.nanoTime();
        attempt.upstreamStatus = upstreamStatus;
        attempt.firstByte = firstByteNanos;
        attempt.outcome = failure == null ? "ok" : outcome(failure);
        attempt.retryInMillis = retryInMillis;
    }

    /** The whole trace, as the JSON reply's {@value #FIELD} field and the stream's last comment carry it. */
    public synchronized ObjectNode toJson(Exchange exchange) {
        ObjectNode o = Json.object();
        o.put("request_id", exchange.getProperty(ExchangeKeys.REQUEST_ID, String.class));
        o.put("model_asked", exchange.getProperty(ExchangeKeys.ASKED_MODEL, String.class));
        ModelRoute route = exchange.getProperty(ExchangeKeys.MODEL_ROUTE, ModelRoute.class);
        if (route != null) {
            o.put("model", route.model());
            o.put("upstream_model", route.upstreamModel());
            o.put("backend", route.backendName());
        }
        List<?> fallbacks = exchange.getProperty(ExchangeKeys.FALLBACKS, List.class);
        ArrayNode failed = o.putArray("fallbacks");
        if (fallbacks != null) {
            fallbacks.forEach(f -> failed.add(String.valueOf(f)));
        }
        Long waited = exchange.getProperty(ExchangeKeys.LANE_WAITED_NANOS, Long.class);
        if (waited != null || !attempts.isEmpty()) {
            // set by a lane only when the request queued; each lane's own wait is its acquire-<backend> step
            o.put("lane_wait_ms", waited == null ? 0 : millis(waited));
        }
        Long firstToken = exchange.getProperty(ExchangeKeys.UPSTREAM_FIRST_BYTE_NANOS, Long.class);
        if (firstToken != null) {
            o.put("first_token_ms", millis(firstToken - start));
        }
        ArrayNode calls = o.putArray("attempts");
        for (Attempt a : attempts) {
            ObjectNode c = calls.addObject();
            c.put("attempt", a.n);
            c.put("model", a.model);
            c.put("backend", a.backend);
            c.put("at_ms", millis(a.sent - start));
            if (a.firstByte != 0) {
                c.put("first_byte_ms", millis(a.firstByte - a.sent));
            }
            if (a.end != 0) {
                c.put("ms", millis(a.end - a.sent));
            }
            c.put("outcome", a.outcome == null ? IN_PROGRESS : a.outcome);
            if (a.upstreamStatus > 0) {
                c.put("upstream_status", a.upstreamStatus);
            }
            if (a.retryInMillis >= 0) {
                c.put("retry_in_ms", a.retryInMillis);
            }
        }
        ArrayNode list = o.putArray("steps");
        for (Step s : steps) {
            ObjectNode j = list.addObject();
            j.put("route", s.route);
            j.put("step", s.step);
            j.put("depth", s.depth);
            j.put("at_ms", millis(s.begin - start));
            if (s.end != 0) {
                j.put("ms", millis(s.end - s.begin));
            }
            if (s.failure != null) {
                j.put("failed", s.failure);
            }
        }
        if (dropped > 0) {
            o.put("steps_dropped", dropped);
        }
        o.put("ms", millis(System.nanoTime() - start));
        return o;
    }

    /**
     * The summary for the reply header, one line of {@code name=value} fields separated by "; ": model asked, served,
     * fallbacks, lane wait, attempts ({@code n:model@backend:outcome:ms}) and the outermost steps of the hooks and
     * router ({@code route/step:ms}). ASCII only; cut at {@value #HEADER_CAP} characters, ending with "...".
     */
    public synchronized String summary(Exchange exchange) {
        StringBuilder s = new StringBuilder(512);
        s.append("asked=").append(exchange.getProperty(ExchangeKeys.ASKED_MODEL, String.class));
        ModelRoute route = exchange.getProperty(ExchangeKeys.MODEL_ROUTE, ModelRoute.class);
        if (route != null) {
            s.append("; served=").append(route.model()).append('@').append(route.backendName());
        }
        List<?> fallbacks = exchange.getProperty(ExchangeKeys.FALLBACKS, List.class);
        if (fallbacks != null && !fallbacks.isEmpty()) {
            s.append("; fallbacks=");
            fallbacks.forEach(f -> s.append(f).append(','));
            s.setLength(s.length() - 1);
        }
        Long waited = exchange.getProperty(ExchangeKeys.LANE_WAITED_NANOS, Long.class);
        if (waited != null) {
            s.append("; lane_wait_ms=").append(millis(waited));
        }
        if (!attempts.isEmpty()) {
            s.append("; attempts=");
            for (Attempt a : attempts) {
                s.append(a.n).append(':').append(a.model).append('@').append(a.backend).append(':')
                        .append(a.outcome == null ? IN_PROGRESS : a.outcome.replace(' ', '_'));
                if (a.end != 0) {
                    s.append(':').append(millis(a.end - a.sent)).append("ms");
                }
                s.append(',');
            }
            s.setLength(s.length() - 1);
        }
        s.append("; steps=");
        for (Step step : steps) {
            if (step.end != 0 && step.depth <= 2) {
                s.append(step.route).append('/').append(step.step).append(':').append(millis(step.end - step.begin))
                        .append(',');
            }
        }
        s.setLength(s.length() - 1);
        s.append("; ms=").append(millis(System.nanoTime() - start));
        return headerSafe(s);
    }

    /** Printable ASCII only (a client's model name could hold anything), at most {@value #HEADER_CAP} characters. */
    static String headerSafe(CharSequence text) {
        int length = Math.min(text.length(), HEADER_CAP);
        StringBuilder safe = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            safe.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        if (text.length() > HEADER_CAP) {
            safe.setLength(HEADER_CAP - 3);
            safe.append("...");
        }
        return safe.toString();
    }

    /** "503 upstream_error" for an OpenAI error (the client's view), else the failure's class. */
    private static String outcome(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof OpenAiError error) {
                return error.status() + " " + error.code();
            }
        }
        return failure.getClass().getSimpleName();
    }

    /** Milliseconds with three decimals. */
    private static double millis(long nanos) {
        return Math.round(nanos / 1000.0) / 1000.0;
    }

    /** One step of a route: where, how deep in the request's steps, when it began and ended. */
    public static final class Step {
        final String route;
        final String step;
        final int depth;
        final long begin;
        long end;
        String failure;

        Step(String route, String step, int depth, long begin) {
            this.route = route;
            this.step = step;
            this.depth = depth;
            this.begin = begin;
        }
    }

    /** One upstream call. */
    public static final class Attempt {
        final int n;
        final String model;
        final String backend;
        final long sent;
        long firstByte;
        long end;
        String outcome;
        int upstreamStatus;
        long retryInMillis = -1;

        Attempt(int n, String model, String backend, long sent) {
            this.n = n;
            this.model = model;
            this.backend = backend;
            this.sent = sent;
        }
    }
}
