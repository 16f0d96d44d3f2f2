package dev.caravan.resilience;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.caravan.openai.OpenAiError;

/**
 * The last few failures of each backend's upstream calls, as its circuit breaker counted them (connect errors,
 * timeouts, 502/504 after the upstream's 5xx): what the dev console and the backend health checks show, taken from
 * the calls that ran anyway, never from a call of their own. A small ring per backend; nothing of the request (no
 * key, no prompt) is kept, only when, which model, the status and the error code.
 */
public final class RecentErrors {

    /** Failures kept per backend. */
    public static final int PER_BACKEND = 16;

    private final Map<String, ArrayDeque<Entry>> byBackend = new ConcurrentHashMap<>();

    /** One failure: when, the upstream model ("" for the backend as a whole), the gateway's status and code. */
    public record Entry(Instant time, String model, int status, int upstreamStatus, String code, String message) {
    }

    public void record(String backend, String model, Throwable failure) {
        int status = 502;
        int upstreamStatus = 0;
        String code = "upstream_error";
        String message = failure == null ? "" : String.valueOf(failure.getMessage());
        if (failure instanceof OpenAiError error) {
            status = error.status();
            code = error.code() == null ? error.type() : error.code();
        }
        if (failure instanceof UpstreamFailure upstream) {
            upstreamStatus = upstream.upstreamStatus();
        }
        if (message.length() > 200) {
            message = message.substring(0, 200) + "...";
        }
        Entry entry = new Entry(Instant.now(), model == null ? "" : model, status, upstreamStatus, code, message);
        ArrayDeque<Entry> ring = byBackend.computeIfAbsent(backend, b -> new ArrayDeque<>(PER_BACKEND));
        synchronized (ring) {
            if (ring.size() == PER_BACKEND) {
                ring.removeFirst();
            }
            ring.addLast(entry);
        }
    }

    /** The backend's kept failures, newest first. */
    public List<Entry> of(String backend) {
        ArrayDeque<Entry> ring = byBackend.get(backend);
        if (ring == null) {
            return List.of();
        }
        List<Entry> entries;
        synchronized (ring) {
            entries = new ArrayList<>(ring);
        }
        java.util.Collections.reverse(entries);
        return entries;
    }

    /** Forgets a backend gone from gateway.yaml. */
    public void forget(String backend) {
        byBackend.remove(backend);
    }
}
