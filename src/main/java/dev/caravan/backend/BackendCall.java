package dev.caravan.backend;

import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.ModelRoute;
import dev.caravan.exchange.Cancellation;
import dev.caravan.exchange.DebugTrace;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.exchange.GatewayTime;
import dev.caravan.exchange.RequestBody;
import dev.caravan.openai.ChunkSink;
import dev.caravan.openai.LegacyCompletions;
import dev.caravan.openai.OpenAiError;
import dev.caravan.openai.Operation;
import dev.caravan.openai.PromptTokens;
import dev.caravan.openai.ReplyFormat;
import dev.caravan.openai.Usage;
import dev.caravan.resilience.CircuitBreakers;
import dev.caravan.resilience.Failures;
import dev.caravan.resilience.RetryPolicy;
import dev.caravan.resilience.UpstreamFailure;
import dev.caravan.stream.ClientConnection;
import dev.caravan.stream.StreamRelay;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The step of a backend route that calls the upstream: each {@code backend-<type>} route names its own instance,
 * bound to the adapter of its protocol ({@code openaiCall}, {@code ollamaCall}, ...; see {@link BackendRouteSteps}),
 * so the route a lane calls decides the protocol, whatever the type of the backend it resolved. Makes up to the
 * backend's retry max-attempts calls (gateway.yaml, default gateway.retry.max-attempts), each one let through by the
 * backend's circuit breaker and armed with the backend's timeout-seconds and the request's cancellation (client gone, deadline passed); puts the reply on the exchange
 * (or relays the stream to the client). Completes the exchange asynchronously: no thread waits on the upstream,
 * and a backoff between attempts is a Vert.x timer.
 * <p>
 * A failed call is tried again only when another call may help (connect error, connection closed, 429, 500, 502,
 * 503, 504), nothing of it reached the client yet (a stream whose headers went out is never retried: it ends with
 * an error event), the request is not cancelled and the wait ends before its deadline. The wait is exponential
 * backoff with full jitter, or the upstream's retry-after when it sent one (see {@link RetryPolicy}). Retries stay
 * inside the lane slot the request holds.
 * <p>
 * Why not Camel's redelivery (an errorHandler with a redeliveryPolicy): with asyncDelayedRedelivery it schedules each
 * redelivery on Camel's ErrorHandlerRedeliveryThreadPool and runs the attempt there, off the Vert.x event loop the
 * request and its upstream connections live on (without it, it sleeps on the event loop); it copies every exchange
 * up front in case of a redelivery; a scheduled redelivery cannot be cut short by the request's cancellation; its
 * jitter is ±15 % "collision avoidance", not full jitter; and a route has one error handler, which 90-errors owns.
 * The decisions (retryable? retry-after? stream started? deadline?) would be Java predicates either way.
 */
public final class BackendCall extends AsyncProcessorSupport {

    private static final Logger LOG = LoggerFactory.getLogger(BackendCall.class);

    private final BackendAdapter adapter;
    private final Vertx vertx;
    private final CircuitBreakers circuits;

    public BackendCall(BackendAdapter adapter, Vertx vertx, CircuitBreakers circuits) {
        this.adapter = adapter;
        this.vertx = vertx;
        this.circuits = circuits;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        try {
            Request request = new Request(exchange, adapter);
            Future<Void> outcome = attempt(request, 1).andThen(ar -> {
                if (ar.failed() && exchange.getProperty(ExchangeKeys.CLIENT_GONE) == null) {
                    exchange.setException(ar.cause()); // nobody listens to a client that left: no error to report
                }
            });
            return completeWhen(outcome, callback);
        } catch (RuntimeException e) {
            exchange.setException(e);
            callback.done(true);
            return true;
        }
    }

    /** Attempt number {@code n}, and the ones after it while the failures allow. */
    private Future<Void> attempt(Request r, int n) {
        Throwable cancelled = r.cancelled();
        if (cancelled != null) {
            return Future.failedFuture(cancelled);
        }
        String backend = r.route.backendName();
        CircuitBreaker breaker = circuits.of(r.route);
        if (!breaker.tryAcquirePermission()) {
            return Future.failedFuture(circuits.openError(r.route));
        }
        Integer before = r.exchange.getProperty(ExchangeKeys.ATTEMPTS, Integer.class);
        r.exchange.setProperty(ExchangeKeys.ATTEMPTS, before == null ? 1 : before + 1);

        Cancellation cancellation = new Cancellation();
        if (r.whole != null) {
            r.whole.onCancel(reason -> {
                if (ClientConnection.isClientGone(reason)) {
                    r.exchange.setProperty(ExchangeKeys.CLIENT_GONE, true);
                }
                cancellation.cancel(reason);
            });
        }
        long timer = vertx.setTimer(r.route.backend().timeoutSeconds() * 1000L, id -> cancellation.cancel(
                OpenAiError.deadline("The upstream did not finish within " + r.route.backend().timeoutSeconds() + " s")));
        UpstreamCall call = new UpstreamCall(r.translate ? Operation.CHAT : r.operation,
                r.translate ? LegacyCompletions.toChatRequest(r.request) : r.request, r.route,
                r.exchange.getProperty(ExchangeKeys.REQUEST_ID, String.class), cancellation);
        Attempt attempt = new Attempt(System.nanoTime());
        DebugTrace trace = DebugTrace.of(r.exchange); // null unless an admin asked x-caravan-debug
        DebugTrace.Attempt traced = trace == null ? null : trace.attempt(n, r.route.model(), backend);
        Future<Void> outcome;
        try {
            outcome = r.format.streams() ? stream(r, call, attempt) : reply(r, call, attempt);
        } catch (RuntimeException e) {
            vertx.cancelTimer(timer);
            breaker.releasePermission();
            if (traced != null) {
                trace.ended(traced, e, 0, 0, -1);
            }
            return Future.failedFuture(e);
        }
        return outcome.transform(ar -> {
            vertx.cancelTimer(timer);
            Throwable failure = ar.failed() ? call.failure(ar.cause()) : null;
            record(breaker, r, attempt, failure);
            long delay = failure == null ? -1 : retryDelay(r, n, attempt, failure);
            if (traced != null) {
                trace.ended(traced, failure, failure instanceof UpstreamFailure u ? u.upstreamStatus() : 0,
                        attempt.firstByte, delay);
            }
            if (failure == null) {
                return Future.succeededFuture();
            }
            if (delay < 0) {
                return Future.failedFuture(failure);
            }
            LOG.debug("Request {}: attempt {} of {} on backend '{}' failed ({}); next in {} ms",
                    call.requestId(), n, r.route.backend().retry().maxAttempts(), backend, failure.getMessage(), delay);
            return backoff(r, delay).compose(v -> attempt(r, n + 1));
        });
    }

    private Future<Void> reply(Request r, UpstreamCall call, Attempt attempt) {
        return r.adapter.call(call).andThen(ar -> GatewayTime.addUpstreamNanos(r.exchange, System.nanoTime() - attempt.sent))
                .map(result -> {
                    ObjectNode body = r.translate ? LegacyCompletions.toTextCompletion(result) : result;
                    r.exchange.getMessage().setBody(body);
                    Usage usage = Usage.of(body.get("usage"));
                    if (usage != null) {
                        r.exchange.setProperty(ExchangeKeys.USAGE, usage);
                    }
                    return null;
                });
    }

    private Future<Void> stream(Request r, UpstreamCall call, Attempt attempt) {
        HttpServerResponse response = r.exchange.getProperty(ExchangeKeys.RESPONSE, HttpServerResponse.class);
        boolean includeUsage = r.request.path("stream_options").path("include_usage").asBoolean(false);
        StreamRelay relay = new StreamRelay(response, r.format, includeUsage, call.route().model(), r.exchange,
                attempt.sent, PromptTokens.estimate(r.request));
        attempt.relay = relay;
        ChunkSink sink = new FirstByte(r.translate ? LegacyCompletions.textChunks(relay) : relay, attempt, r.exchange);
        return r.adapter.stream(call, sink).andThen(ar -> {
            if (ar.succeeded()) {
                relay.finish();
            } else if (relay.opened() && r.exchange.getProperty(ExchangeKeys.CLIENT_GONE) == null) {
                relay.fail(call.failure(ar.cause())); // mid-stream: an error event, no [DONE]
            }
            if (ar.succeeded() || relay.opened()) {
                // what the client got; a stream that never opened leaves the request as the body for a fallback
                r.exchange.setProperty(ExchangeKeys.USAGE, relay.usage());
                r.exchange.getMessage().setBody(relay.completion());
            }
        });
    }

    /**
     * Tells the backend's breaker how the call went, measured to its first byte for a stream (a long answer is not a
     * slow backend). A call the client left or the deadline cut says nothing about the backend, nor does a local
     * failure of the gateway; a request the upstream refused as bad, or a 429 (a quota), says it is up.
     */
    private static void record(CircuitBreaker breaker, Request r, Attempt attempt, Throwable failure) {
        long took = (attempt.firstByte != 0 ? attempt.firstByte : System.nanoTime()) - attempt.sent;
        if (failure == null) {
            breaker.onSuccess(took, TimeUnit.NANOSECONDS);
        } else if (r.cancelled() != null) {
            if (attempt.firstByte != 0) {
                breaker.onSuccess(took, TimeUnit.NANOSECONDS);
            } else {
                breaker.releasePermission();
            }
        } else if (Failures.countsAgainstBackend(failure)) {
            breaker.onError(took, TimeUnit.NANOSECONDS, failure);
        } else if (Failures.isLocal(failure)) {
            breaker.releasePermission(); // the gateway's own trouble says nothing of the upstream
        } else {
            breaker.onSuccess(took, TimeUnit.NANOSECONDS);
        }
    }

    /** Milliseconds to wait before the next attempt, or -1 when there is none. */
    private long retryDelay(Request r, int n, Attempt attempt, Throwable failure) {
        if (attempt.relay != null && attempt.relay.opened() || r.cancelled() != null || !Failures.retryable(failure)) {
            return -1;
        }
        // the backend's own policy (gateway.yaml retry:), made only once a call failed: nothing on the happy path
        long delay = RetryPolicy.of(r.route.backend().retry()).delayAfter(n, Failures.retryAfterMillis(failure));
        Long deadline = r.exchange.getProperty(ExchangeKeys.DEADLINE_NANOS, Long.class);
        if (delay >= 0 && deadline != null && System.nanoTime() + delay * 1_000_000L >= deadline) {
            return -1; // the next attempt could not finish in time anyway
        }
        return delay;
    }

    /** Waits {@code millis} on a timer; a cancelled request stops waiting at once. */
    private Future<Void> backoff(Request r, long millis) {
        Promise<Void> waited = Promise.promise();
        long timer = vertx.setTimer(Math.max(1, millis), id -> waited.tryComplete());
        if (r.whole != null) {
            r.whole.onCancel(reason -> {
                if (vertx.cancelTimer(timer)) {
                    if (ClientConnection.isClientGone(reason)) {
                        r.exchange.setProperty(ExchangeKeys.CLIENT_GONE, true);
                    }
                    waited.tryFail(reason);
                }
            });
        }
        return waited.future();
    }

    /** Completes the Camel callback when the future does, synchronously if it already has. */
    private static boolean completeWhen(Future<?> future, AsyncCallback callback) {
        if (future.isComplete()) {
            callback.done(true);
            return true;
        }
        future.onComplete(ar -> callback.done(false));
        return false;
    }

    /** What every attempt of one request shares. */
    private static final class Request {
        final Exchange exchange;
        final ModelRoute route;
        final Operation operation;
        final ReplyFormat format;
        final ObjectNode request;
        final BackendAdapter adapter;
        final boolean translate;
        final Cancellation whole;

        Request(Exchange exchange, BackendAdapter adapter) {
            this.exchange = exchange;
            this.route = exchange.getProperty(ExchangeKeys.MODEL_ROUTE, ModelRoute.class);
            this.operation = exchange.getProperty(ExchangeKeys.OPERATION, Operation.class);
            this.format = exchange.getProperty(ExchangeKeys.REPLY_FORMAT, ReplyFormat.class);
            this.request = RequestBody.of(exchange);
            exchange.setProperty(ExchangeKeys.REQUEST, request); // for the post-hooks, once the body is the reply
            this.adapter = adapter;
            this.translate = operation == Operation.COMPLETION && !adapter.servesLegacyCompletions();
            this.whole = exchange.getProperty(ExchangeKeys.CANCELLATION, Cancellation.class);
        }

        /** Why the whole request was cancelled (client gone, deadline passed), or null. */
        Throwable cancelled() {
            return whole == null ? null : whole.reason();
        }
    }

    /** One call: when it was sent, when its first byte came (a stream's open), its relay. */
    private static final class Attempt {
        final long sent;
        volatile long firstByte;
        StreamRelay relay;

        Attempt(long sent) {
            this.sent = sent;
        }
    }

    /** Notes the time the upstream accepted a stream (its first byte), on the way to the relay. */
    private static final class FirstByte implements ChunkSink {
        private final ChunkSink target;
        private final Attempt attempt;
        private final Exchange exchange;
        private boolean chunkSeen;

        FirstByte(ChunkSink target, Attempt attempt, Exchange exchange) {
            this.target = target;
            this.attempt = attempt;
            this.exchange = exchange;
        }

        @Override
        public void open() {
            if (attempt.firstByte == 0) {
                attempt.firstByte = System.nanoTime();
            }
            target.open();
        }

        @Override
        public void accept(ObjectNode chunk) {
            if (!chunkSeen) {
                chunkSeen = true; // the time to first token, for the access log
                exchange.setProperty(ExchangeKeys.UPSTREAM_FIRST_BYTE_NANOS, System.nanoTime());
            }
            target.accept(chunk);
        }

        @Override
        public boolean writable() {
            return target.writable();
        }

        @Override
        public void whenWritable(Runnable resume) {
            target.whenWritable(resume);
        }
    }
}
