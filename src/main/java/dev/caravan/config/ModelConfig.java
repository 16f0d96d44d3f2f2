package dev.caravan.config;

import java.util.List;

/** A model id clients send, mapped to a backend (DESIGN §3a). An id ending in "/*" is a prefix model. */
public record ModelConfig(
        String backend,
        String upstreamModel,
        List<String> aliases,
        List<String> fallbacks,
        Integer contextWindow,
        Cost cost) {

    public List<String> aliasesOrEmpty() {
        return aliases == null ? List.of() : aliases;
    }

    public List<String> fallbacksOrEmpty() {
        return fallbacks == null ? List.of() : fallbacks;
    }

    public Cost costOrFree() {
        return cost == null ? Cost.FREE : cost;
    }
}
