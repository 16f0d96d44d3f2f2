package dev.caravan.config;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Route files (and pipeline files of routes/pipelines/) whose last edit was refused, and why: /health shows them (status "degraded") until a later edit of
 * the same file loads, and the count of refusals is a metric. The routes of a refused file keep running as they
 * were before the edit.
 */
public final class RouteReloadFailures {

    /** A refused edit: the file, the line of the failing step when known (else 0), and the reason. */
    public record Failure(String file, int line, String reason) {
    }

    private final Map<String, Failure> standing = new ConcurrentHashMap<>();
    private final AtomicLong refused = new AtomicLong();

    /** Records a refusal; false when the same failure already stands (one file write can fire the watcher twice). */
    public boolean refused(Failure failure) {
        Failure before = standing.put(failure.file(), failure);
        if (failure.equals(before)) {
            return false;
        }
        refused.incrementAndGet();
        return true;
    }

    public void loaded(String file) {
        standing.remove(file);
    }

    public List<Failure> standing() {
        return List.copyOf(standing.values());
    }

    /** Edits refused since start (the metric caravan_route_reload_failures_total). */
    public long refusedTotal() {
        return refused.get();
    }
}
