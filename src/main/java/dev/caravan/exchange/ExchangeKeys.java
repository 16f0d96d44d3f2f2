package dev.caravan.exchange;

/** Names of the exchange properties the gateway's own steps share. Routes may read them as exchangeProperty. */
public final class ExchangeKeys {

    /** System.nanoTime() when the request reached the gateway. */
    public static final String RECEIVED_NANOS = "CaravanReceivedNanos";
    /** The client's Vert.x HttpServerResponse: streams write to it directly. */
    public static final String RESPONSE = "CaravanResponse";
    /**
     * The request-wide Cancellation: cancelled when the client disconnects (reason: {@link
     * dev.caravan.stream.ClientConnection#GONE}) or the request's deadline passes. A waiting request leaves its
     * queue and a running upstream call is aborted.
     */
    public static final String CANCELLATION = "CaravanCancellation";
    /** Extra response headers (a Vert.x MultiMap) the reply carries: x-request-id, x-caravan-backend, ... */
    public static final String REPLY_HEADERS = "CaravanReplyHeaders";
    /** The request id (x-request-id accepted or generated). */
    public static final String REQUEST_ID = "CaravanRequestId";
    /** True when the client disconnected before its reply ended (set by the backend call). */
    public static final String CLIENT_GONE = "CaravanClientGone";
    /**
     * The request as the backend call last sent it (a Jackson ObjectNode), kept once the body has become the reply:
     * post-hooks read it there. Before the backend call the request is the message body ({@link RequestBody}).
     */
    public static final String REQUEST = "CaravanRequest";
    /**
     * The request body as the client sent it (a Vert.x Buffer, or byte[]), kept for the dead-letter queue: a replay
     * runs through the hooks again, so it starts from what the client sent, not from what the hooks made of it.
     */
    public static final String CLIENT_REQUEST = "CaravanClientRequest";
    /** What the client asked for: chat, completion or embeddings (an Operation). */
    public static final String OPERATION = "CaravanOperation";
    /** How the reply goes out: json, sse or ndjson (a ReplyFormat). */
    public static final String REPLY_FORMAT = "CaravanReplyFormat";
    /** The resolved model route (a ModelRoute): model id, backend, upstream model. */
    public static final String MODEL_ROUTE = "CaravanModelRoute";
    /** Name of the backend that serves the request; routes use it to pick the lane. */
    public static final String BACKEND = "CaravanBackend";
    /** Usage of the finished request (a Usage). */
    public static final String USAGE = "CaravanUsage";
    /** Cost in USD of the finished request (a Double). */
    public static final String COST = "CaravanCost";
    /** The caller's key (a KeyConfig) once authenticated; absent when auth is off. */
    public static final String KEY = "CaravanKey";
    /** The request's priority in the lanes (a Priority): x-priority header, else the key's tier. */
    public static final String PRIORITY = "CaravanPriority";
    /** True once adminAuth let the request through to an admin endpoint. */
    public static final String ADMIN = "CaravanAdmin";
    /** The OpenAiError the request ended with, once the error route handled it. */
    public static final String ERROR = "CaravanError";
    /** System.nanoTime() when the first chunk of a streamed reply reached the gateway (its time to first token). */
    public static final String UPSTREAM_FIRST_BYTE_NANOS = "CaravanUpstreamFirstByteNanos";
    /** System.nanoTime() when the upstream call was sent. */
    public static final String UPSTREAM_SENT_NANOS = "CaravanUpstreamSentNanos";
    /** System.nanoTime() by which the whole request must be done (PIPELINE_TIMEOUT_SECONDS); absent: none. */
    public static final String DEADLINE_NANOS = "CaravanDeadlineNanos";
    /** Upstream calls made for the request so far (an Integer): retries and fallbacks included. */
    public static final String ATTEMPTS = "CaravanAttempts";
    /**
     * The request's intent label (a String) once the intent hook step classified it: one of the labels its rules
     * name, or its default label. Routes may {@code choice} on it; request metrics and the access log carry it.
     */
    public static final String INTENT = "CaravanIntent";
    /** The model id the client sent (a String), before hooks, pipes and fallbacks changed what served it. */
    public static final String ASKED_MODEL = "CaravanAskedModel";
    /** The models that failed before the one that served, in order (a List of "model@backend"); absent: none. */
    public static final String FALLBACKS = "CaravanFallbacks";
    /** Nanoseconds the request waited in its lane's queue for a slot (a Long). */
    public static final String LANE_WAITED_NANOS = "CaravanLaneWaitedNanos";
    /**
     * The request's {@link DebugTrace} when an admin asked for it ({@code x-caravan-debug: true}): steps, attempts and
     * their times, returned with the reply. Absent on every other request, and then nothing is recorded.
     */
    public static final String DEBUG_TRACE = "CaravanDebugTrace";

    private ExchangeKeys() {
    }
}
