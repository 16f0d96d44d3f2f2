package dev.caravan.api;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Endpoint paths whose consumer stopped a moment ago. A route reload stops an api route and starts it again;
 * a request that arrives in between finds no endpoint and would get a 404 for a URL that exists. Within a
 * grace period such a request gets 503 with retry-after instead; a path removed for good answers 404 after it.
 */
final class ReloadingPaths {

    private static final long GRACE_NANOS = 10_000_000_000L;

    private final Map<String, Long> stoppedAt = new ConcurrentHashMap<>();

    void stopped(String path) {
        stoppedAt.put(normalize(path), System.nanoTime());
    }

    void started(String path) {
        stoppedAt.remove(normalize(path));
    }

    boolean isReloading(String requestPath) {
        if (stoppedAt.isEmpty()) {
            return false;
        }
        long now = System.nanoTime();
        for (Map.Entry<String, Long> entry : stoppedAt.entrySet()) {
            if (now - entry.getValue() < GRACE_NANOS && RouterErrorPages.matches(entry.getKey(), requestPath)) {
                return true;
            }
        }
        return false;
    }

    /** Camel's "/v1/models/{id}" as Vert.x writes it, "/v1/models/:id"; a prefix match keeps its "*". */
    private static String normalize(String path) {
        return path.replaceAll("\\{([^/}]+)}", ":$1");
    }
}
