package dev.caravan.openai;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Where a backend adapter pushes a streamed reply, one OpenAI chunk at a time ({@code chat.completion.chunk},
 * or a {@code text_completion} chunk for the legacy endpoint), whatever the upstream's own wire format.
 */
public interface ChunkSink {

    /** The upstream accepted the call (status 2xx): the client's headers go out now, before the first token. */
    void open();

    /** One chunk, in upstream order. A usage-only chunk has empty choices and a usage object. */
    void accept(ObjectNode chunk);

    /** False while the client's socket is backed up; an adapter then pauses its upstream until {@link #whenWritable}. */
    boolean writable();

    void whenWritable(Runnable resume);
}
