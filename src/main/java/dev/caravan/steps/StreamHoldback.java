package dev.caravan.steps;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The text of a streamed answer that pii-redact has not let out yet, per choice: each chunk's text is appended,
 * what can no longer change is redacted and let out, and the tail that could still become a match waits for the
 * next chunk. The chunk that ends a choice (finish_reason) takes everything that waited. One per stream and step.
 */
final class StreamHoldback {

    private final PiiDetector detector;
    private final Map<Integer, StringBuilder> pending = new HashMap<>(2);

    StreamHoldback(PiiDetector detector) {
        this.detector = detector;
    }

    /** The text of this chunk of choice {@code index} as the client gets it; the rest waits. */
    String next(int index, String text, boolean last) {
        StringBuilder held = pending.get(index);
        if (held == null || held.isEmpty()) {
            if (last) {
                pending.remove(index);
                return detector.redact(text);
            }
            if (held == null) {
                held = new StringBuilder(64);
                pending.put(index, held);
            }
        }
        held.append(text);
        if (last) {
            pending.remove(index);
            return detector.redact(held.toString());
        }
        List<PiiDetector.Span> spans = detector.find(held);
        int hold = detector.holdFrom(held, spans);
        if (hold == 0) {
            return "";
        }
        String out = detector.replace(held, spans, hold);
        held.delete(0, hold);
        return out;
    }
}
