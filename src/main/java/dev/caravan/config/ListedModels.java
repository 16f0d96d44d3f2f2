package dev.caravan.config;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Model ids that an upstream listed (under its prefix) when /v1/models last asked it. At most {@link #MAX} are
 * remembered, so what depends on them (metric labels) stays bounded whatever ids clients invent. The gateway never
 * asks an upstream on its own for this: the lists come with the /v1/models calls clients make.
 */
public final class ListedModels {

    /** Enough for any real catalogue, bounded for metrics. */
    public static final int MAX = 1000;

    private final Set<String> ids = ConcurrentHashMap.newKeySet();

    public boolean contains(String model) {
        return ids.contains(model);
    }

    public void remember(String prefix, List<String> names) {
        for (String name : names) {
            if (ids.size() >= MAX) {
                return;
            }
            ids.add(prefix + name);
        }
    }
}
