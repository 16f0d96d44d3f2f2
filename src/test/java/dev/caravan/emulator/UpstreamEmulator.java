package dev.caravan.emulator;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

/**
 * In-process fake LLM upstream speaking OpenAI/vLLM, Ollama and TGI on one port, with knobs (reply, delays,
 * failures, hangs, cuts) and counters for tests. Built on bare Vert.x core and timers only, so a thousand slow
 * streams cost a thousand pending timers, not threads.
 *
 * <p>Paths decide the dialect: {@code /v1/*} OpenAI, {@code /api/*} and {@code /} Ollama, everything else TGI.
 */
public final class UpstreamEmulator implements AutoCloseable {

    public static final String DEFAULT_REPLY = "Hello from the emulator! How can I help?";
    private static final int MAX_BODIES = 1000;
    private static final AtomicInteger NEXT_SHARED_FREE_PORT = new AtomicInteger(-1);

    /** Which error envelope a path gets. */
    private enum Dialect { OPENAI, OLLAMA, TGI }

    private final Vertx vertx;
    private final boolean ownsVertx;
    private final List<String> deployments = new ArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile int port;

    // knobs
    private volatile Tokens.Reply reply = Tokens.Reply.of(DEFAULT_REPLY);
    private volatile long tokenDelayMs;
    private volatile long firstTokenDelayMs;
    private volatile int cutAfterTokens = -1;
    private volatile boolean omitUsage;
    private volatile int failStatus = 500;
    private volatile String failMessage = "emulated failure";
    private volatile int retryAfterSeconds = -1;
    private final AtomicInteger failRemaining = new AtomicInteger();
    private final AtomicInteger hangRemaining = new AtomicInteger();

    // counters and recordings
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private final AtomicInteger clientAborts = new AtomicInteger();
    private final AtomicLong ids = new AtomicLong();
    private volatile String lastRequestBodyText;
    private volatile JsonObject lastRequestBody;
    private volatile Map<String, String> lastRequestHeaders = Map.of();
    private volatile String lastRequestPath;
    private final ArrayDeque<JsonObject> bodies = new ArrayDeque<>();

    private UpstreamEmulator(Vertx vertx, boolean ownsVertx) {
        this.vertx = vertx;
        this.ownsVertx = ownsVertx;
    }

    // -- life cycle ----------------------------------------------------------------------------------------------

    public static UpstreamEmulator start() {
        return start(0);
    }

    public static UpstreamEmulator start(int port) {
        return start(null, "127.0.0.1", port, defaultInstances());
    }

    /** Runs on a caller-owned Vertx (left open by {@link #close()}). */
    public static UpstreamEmulator start(Vertx vertx, int port) {
        return start(vertx, "127.0.0.1", port, defaultInstances());
    }

    /**
     * @param instances number of HTTP server instances (one event loop each) sharing the port; more than one only
     *                  matters for benchmarks that push the emulator itself
     */
    public static UpstreamEmulator start(Vertx vertx, String host, int port, int instances) {
        UpstreamEmulator emulator = new UpstreamEmulator(vertx != null ? vertx : Vertx.vertx(), vertx == null);
        try {
            // Vert.x binds a port once and spreads its connections over all servers listening on it. A port-0
            // server is never shared, but a negative port means "a free port shared by every server given this
            // same negative number": a number of its own per emulator keeps two emulators on one Vertx apart.
            emulator.deploy(host, port == 0 ? NEXT_SHARED_FREE_PORT.getAndDecrement() : port, Math.max(1, instances));
            return emulator;
        } catch (RuntimeException e) {
            emulator.close();
            throw e;
        }
    }

    private static int defaultInstances() {
        return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    }

    private void deploy(String host, int wantedPort, int instances) {
        HttpServerOptions options = new HttpServerOptions()
                .setHost(host)
                .setPort(wantedPort)
                .setAcceptBacklog(8192)
                .setTcpNoDelay(true)
                // uvicorn, Go and hyper answer "Expect: 100-continue" themselves; clients otherwise stall on it
                .setHandle100ContinueAutomatically(true)
                // real vLLM (uvicorn), Ollama (Go) and TGI (axum) ignore an h2c upgrade; so do we
                .setHttp2ClearTextEnabled(false);
        String id = await(vertx.deployVerticle(() -> new AbstractVerticle() {
            @Override
            public void start(Promise<Void> started) {
                vertx.createHttpServer(options)
                        .requestHandler(request -> handle(vertx, request))
                        .listen()
                        .onSuccess(server -> {
                            port = server.actualPort();
                            started.complete();
                        })
                        .onFailure(started::fail);
            }
        }, new DeploymentOptions().setInstances(instances)));
        deployments.add(id);
    }

    public int port() {
        return port;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    /** Stops the servers (dropping open connections, hanging ones included) and the Vertx if it is ours. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        if (ownsVertx) {
            await(vertx.close());
        } else {
            for (String id : deployments) await(vertx.undeploy(id));
        }
        deployments.clear();
    }

    private static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (Exception e) {
            throw new IllegalStateException("emulator: " + e.getMessage(), e);
        }
    }

    // -- knobs ---------------------------------------------------------------------------------------------------

    public UpstreamEmulator reply(String text) {
        this.reply = Tokens.Reply.of(text);
        return this;
    }

    public UpstreamEmulator tokenDelayMs(long ms) {
        this.tokenDelayMs = ms;
        return this;
    }

    public UpstreamEmulator firstTokenDelayMs(long ms) {
        this.firstTokenDelayMs = ms;
        return this;
    }

    /** The next n requests, whatever the path, answer this status with the dialect's error body. */
    public UpstreamEmulator failNext(int n, int status) {
        this.failStatus = status;   // set before the count so a request that claims a failure sees this status
        this.failRemaining.set(n);
        return this;
    }

    /** The message of failNext replies ("emulated failure" by default): an upstream that echoes what it was sent. */
    public UpstreamEmulator failMessage(String message) {
        this.failMessage = message;
        return this;
    }

    /** failNext replies carry {@code retry-after: seconds} (-1: none, the default). */
    public UpstreamEmulator retryAfterSeconds(int seconds) {
        this.retryAfterSeconds = seconds;
        return this;
    }

    /** The next n requests get no answer at all; they stay in flight until the client closes the connection. */
    public UpstreamEmulator hangNext(int n) {
        this.hangRemaining.set(n);
        return this;
    }

    /** Streams drop the connection right after n token frames (-1: never); non-streamed answers are unaffected. */
    public UpstreamEmulator cutAfterTokens(int n) {
        this.cutAfterTokens = n;
        return this;
    }

    /** OpenAI streams leave out the usage chunk even when stream_options.include_usage asks for it. */
    public UpstreamEmulator omitUsage(boolean omit) {
        this.omitUsage = omit;
        return this;
    }

    /**
     * Back to defaults, counters and recordings cleared. inFlight is the live number of open requests and is left
     * alone; maxInFlight restarts from it.
     */
    public UpstreamEmulator reset() {
        reply = Tokens.Reply.of(DEFAULT_REPLY);
        tokenDelayMs = 0;
        firstTokenDelayMs = 0;
        cutAfterTokens = -1;
        omitUsage = false;
        failRemaining.set(0);
        failStatus = 500;
        failMessage = "emulated failure";
        retryAfterSeconds = -1;
        hangRemaining.set(0);
        requests.set(0);
        clientAborts.set(0);
        maxInFlight.set(inFlight.get());
        ids.set(0);
        lastRequestBody = null;
        lastRequestBodyText = null;
        lastRequestHeaders = Map.of();
        lastRequestPath = null;
        synchronized (bodies) {
            bodies.clear();
        }
        return this;
    }

    // -- counters ------------------------------------------------------------------------------------------------

    public int requests() {
        return requests.get();
    }

    public int inFlight() {
        return inFlight.get();
    }

    public int maxInFlight() {
        return maxInFlight.get();
    }

    public int clientAborts() {
        return clientAborts.get();
    }

    /** The last request body as JSON, or null when it was empty or not a JSON object. */
    public JsonObject lastRequestBody() {
        return lastRequestBody;
    }

    /** The last request body as received (null before the first body arrives; "" for a bodiless GET). */
    public String lastRequestBodyText() {
        return lastRequestBodyText;
    }

    /** Headers of the last request, names lower-cased, repeated headers joined with ", ". */
    public Map<String, String> lastRequestHeaders() {
        return lastRequestHeaders;
    }

    /** Path (without query) of the last request. */
    public String lastRequestPath() {
        return lastRequestPath;
    }

    /** JSON object bodies received, oldest first, the last 1000 kept. */
    public List<JsonObject> requestBodies() {
        synchronized (bodies) {
            return new ArrayList<>(bodies);
        }
    }

    public boolean awaitInFlight(int n, Duration timeout) {
        return await(() -> inFlight.get() == n, timeout);
    }

    /** Waits until at least n requests have arrived. */
    public boolean awaitRequests(int n, Duration timeout) {
        return await(() -> requests.get() >= n, timeout);
    }

    /** Waits until at least n client aborts have been seen. */
    public boolean awaitClientAborts(int n, Duration timeout) {
        return await(() -> clientAborts.get() >= n, timeout);
    }

    /** Polls a condition every millisecond: tests wait on state, never on a guessed sleep. */
    public static boolean await(BooleanSupplier condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) return condition.getAsBoolean();
            LockSupport.parkNanos(1_000_000);
        }
        return true;
    }

    // -- what Exchange reads and reports -------------------------------------------------------------------------

    Tokens.Reply currentReply() {
        return reply;
    }

    long tokenDelayMs() {
        return tokenDelayMs;
    }

    long firstTokenDelayMs() {
        return firstTokenDelayMs;
    }

    int cutAfterTokens() {
        return cutAfterTokens;
    }

    boolean omitUsage() {
        return omitUsage;
    }

    long nextId() {
        return ids.incrementAndGet();
    }

    void requestFinished() {
        inFlight.decrementAndGet();
    }

    void clientAborted() {
        clientAborts.incrementAndGet();
    }

    // -- request handling ----------------------------------------------------------------------------------------

    private void handle(Vertx vertx, HttpServerRequest request) {
        if (request.path().equals("/emulator/stats")) {
            // for benchmarks that run the emulator in its own process: its counters, not counted themselves
            request.response().putHeader("content-type", "application/json").end(new JsonObject()
                    .put("requests", requests.get()).put("in_flight", inFlight.get())
                    .put("max_in_flight", maxInFlight.get()).put("client_aborts", clientAborts.get()).encode());
            return;
        }
        requests.incrementAndGet();
        int open = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(open, Math::max);
        Exchange ex = new Exchange(this, vertx, request);
        request.response().closeHandler(v -> ex.onConnectionClosed());
        lastRequestPath = request.path();
        Map<String, String> headers = new HashMap<>();
        request.headers().forEach(e -> headers.merge(e.getKey().toLowerCase(), e.getValue(), (a, b) -> a + ", " + b));
        lastRequestHeaders = Collections.unmodifiableMap(headers);
        request.body().onComplete(ar -> {
            if (ar.succeeded()) {
                dispatch(ex, ar.result());
            } else {
                ex.onConnectionClosed();   // the body never fully arrived: the client is gone
            }
        });
    }

    private void dispatch(Exchange ex, Buffer body) {
        HttpServerRequest request = ex.request;
        String path = request.path();
        Dialect dialect = path.startsWith("/v1/") ? Dialect.OPENAI
                : path.startsWith("/api/") || path.equals("/") ? Dialect.OLLAMA : Dialect.TGI;
        JsonObject json = record(body);

        if (claim(failRemaining)) {
            int retryAfter = retryAfterSeconds;
            if (retryAfter >= 0) ex.response.putHeader("retry-after", Integer.toString(retryAfter));
            error(ex, dialect, failStatus, failMessage, "server_error");
            return;
        }
        if (claim(hangRemaining)) return;   // never answered; closeHandler releases it when the client leaves
        if (body.length() > 0 && json == null) {
            error(ex, dialect, 400, "request body is not a JSON object", "invalid_request_error");
            return;
        }
        if (json == null) json = new JsonObject();
        try {
            route(ex, dialect, request.method(), path, json);
        } catch (RuntimeException e) {
            // odd field types (e.g. "model": 5) must still get an answer, not a hang
            error(ex, dialect, 400, "emulator could not read the request: " + e, "invalid_request_error");
        }
    }

    private static void route(Exchange ex, Dialect dialect, HttpMethod method, String path, JsonObject json) {
        boolean post = method == HttpMethod.POST;
        boolean get = method == HttpMethod.GET || method == HttpMethod.HEAD;
        switch (path) {
            case "/v1/chat/completions" -> { if (post) OpenAiProtocol.chat(ex, json); else notAllowed(ex, dialect); }
            case "/v1/completions" -> { if (post) OpenAiProtocol.completions(ex, json); else notAllowed(ex, dialect); }
            case "/v1/embeddings" -> { if (post) OpenAiProtocol.embeddings(ex, json); else notAllowed(ex, dialect); }
            case "/v1/models" -> { if (get) OpenAiProtocol.models(ex); else notAllowed(ex, dialect); }
            case "/api/chat" -> { if (post) OllamaProtocol.chat(ex, json); else notAllowed(ex, dialect); }
            case "/api/generate" -> { if (post) OllamaProtocol.generate(ex, json); else notAllowed(ex, dialect); }
            case "/api/embed" -> { if (post) OllamaProtocol.embed(ex, json); else notAllowed(ex, dialect); }
            case "/api/embeddings" -> { if (post) OllamaProtocol.embeddings(ex, json); else notAllowed(ex, dialect); }
            case "/api/tags" -> { if (get) OllamaProtocol.tags(ex); else notAllowed(ex, dialect); }
            case "/api/version" -> { if (get) OllamaProtocol.version(ex); else notAllowed(ex, dialect); }
            case "/" -> { if (get) OllamaProtocol.root(ex); else notAllowed(ex, dialect); }
            case "/generate" -> { if (post) TgiProtocol.generate(ex, json); else notAllowed(ex, dialect); }
            case "/generate_stream" -> { if (post) TgiProtocol.generateStream(ex, json); else notAllowed(ex, dialect); }
            case "/info" -> { if (get) TgiProtocol.info(ex); else notAllowed(ex, dialect); }
            case "/health" -> { if (get) TgiProtocol.health(ex); else notAllowed(ex, dialect); }
            default -> error(ex, dialect, 404, "no such path in the emulator: " + path, "invalid_request_error");
        }
    }

    private static void notAllowed(Exchange ex, Dialect dialect) {
        error(ex, dialect, 405, "method not allowed", "invalid_request_error");
    }

    private static void error(Exchange ex, Dialect dialect, int status, String message, String openAiType) {
        switch (dialect) {
            case OPENAI -> ex.respond(status, Exchange.JSON, OpenAiProtocol.error(message, openAiType), 0);
            case OLLAMA -> ex.respond(status, Exchange.JSON_UTF8, OllamaProtocol.error(message), 0);
            case TGI -> ex.respond(status, Exchange.JSON, TgiProtocol.error(message, status), 0);
        }
    }

    /** Takes one from a "next n requests" budget, if any is left. */
    private static boolean claim(AtomicInteger remaining) {
        return remaining.getAndUpdate(n -> n > 0 ? n - 1 : n) > 0;
    }

    /** Records the body; returns it parsed when it is a JSON object (the protocols reuse the parse). */
    private JsonObject record(Buffer body) {
        String text = body.toString();
        lastRequestBodyText = text;
        JsonObject json = null;
        if (body.length() > 0) {
            try {
                json = new JsonObject(body);
            } catch (RuntimeException notAnObject) {
                json = null;
            }
        }
        lastRequestBody = json;
        if (json != null) {
            synchronized (bodies) {
                if (bodies.size() == MAX_BODIES) bodies.removeFirst();
                bodies.addLast(json);
            }
        }
        return json;
    }

    // -- command line (benchmarks) -------------------------------------------------------------------------------

    /**
     * {@code --port N --token-delay-ms N --first-token-delay-ms N --reply TEXT --host H --instances N};
     * prints "emulator listening on PORT" and runs until killed.
     */
    public static void main(String[] args) throws InterruptedException {
        int port = 0;
        String host = "127.0.0.1";
        int instances = Runtime.getRuntime().availableProcessors();
        long tokenDelay = 0;
        long firstDelay = 0;
        String reply = DEFAULT_REPLY;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(value);
                case "--host" -> host = value;
                case "--instances" -> instances = Integer.parseInt(value);
                case "--token-delay-ms" -> tokenDelay = Long.parseLong(value);
                case "--first-token-delay-ms" -> firstDelay = Long.parseLong(value);
                case "--reply" -> reply = value;
                default -> throw new IllegalArgumentException("unknown argument: " + args[i]
                        + " (known: --port --host --instances --token-delay-ms --first-token-delay-ms --reply)");
            }
            i++;
        }
        UpstreamEmulator emulator = start(null, host, port, instances);
        emulator.reply(reply).tokenDelayMs(tokenDelay).firstTokenDelayMs(firstDelay);
        Runtime.getRuntime().addShutdownHook(new Thread(emulator::close, "emulator-shutdown"));
        System.out.println("emulator listening on " + emulator.port());
        System.out.flush();
        new CountDownLatch(1).await();
    }
}
