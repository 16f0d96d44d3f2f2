package dev.caravan.config;

import java.util.List;

/** An API key and what it may do (DESIGN §3a); enforced by the traffic-control hooks. */
public record KeyConfig(
        String key,
        String name,
        List<String> models,
        Integer rateLimitPerMin,
        Integer burst,
        Integer tokensPerMin,
        String priority) {
}
