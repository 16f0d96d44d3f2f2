package dev.caravan.backend;

/**
 * The protocol's own part of one streamed reply: its events in (an SSE event's data, an NDJSON line), OpenAI chunks
 * out to the sink it was made with. Pure translation: reading, back-pressure, cuts, failures and aborts are the
 * {@link StreamPump}'s, the same for every protocol.
 *
 * @param <E> what one event is: a String (SSE data) or a Buffer (an NDJSON line, parsed without a String)
 */
public interface StreamDecoder<E> {

    /** Once the upstream accepted the call, before any event is read (a role chunk, where the protocol has none). */
    default void start() {
    }

    /** One event, in upstream order. Throws an OpenAiError for an error event or one that cannot be read. */
    void onEvent(E event);

    /** Whether the protocol's end marker came: without it, the end of the stream is a cut, not a finish. */
    boolean finished();

    /** Whether the reply is complete before the upstream ended it (a stop it was not told about): the rest is not wanted. */
    default boolean stoppedEarly() {
        return false;
    }
}
