package dev.caravan.limits;

import java.util.Locale;

import dev.caravan.exchange.ReplyHeaders;
import org.apache.camel.Exchange;

/**
 * OpenAI's rate-limit headers: {@code x-ratelimit-limit-*} (the bucket's size), {@code x-ratelimit-remaining-*}
 * (what is left after this request), {@code x-ratelimit-reset-*} (until the bucket is full again, as "1s",
 * "250ms", "6m0s"), for requests and, when the key has a token limit, for tokens.
 */
public final class RateLimitHeaders {

    private RateLimitHeaders() {
    }

    public static void set(Exchange exchange, Limits limits, Admission admission) {
        if (limits.limitsRequests()) {
            ReplyHeaders.set(exchange, "x-ratelimit-limit-requests", Long.toString(limits.requestCapacity()));
            ReplyHeaders.set(exchange, "x-ratelimit-remaining-requests", remaining(admission.requestsLeft()));
            ReplyHeaders.set(exchange, "x-ratelimit-reset-requests",
                    duration(limits.requestResetMillis(admission.requestsLeft())));
        }
        if (limits.limitsTokens()) {
            ReplyHeaders.set(exchange, "x-ratelimit-limit-tokens", Long.toString(limits.tokenCapacity()));
            ReplyHeaders.set(exchange, "x-ratelimit-remaining-tokens", remaining(admission.tokensLeft()));
            ReplyHeaders.set(exchange, "x-ratelimit-reset-tokens",
                    duration(limits.tokenResetMillis(admission.tokensLeft())));
        }
    }

    private static String remaining(double level) {
        return Long.toString((long) Math.floor(Math.max(0, level)));
    }

    /** Go-style durations, as OpenAI writes them: "0s", "120ms", "1.5s", "6m0s", "1h2m3s". */
    public static String duration(long millis) {
        if (millis <= 0) {
            return "0s";
        }
        if (millis < 1000) {
            return millis + "ms";
        }
        long hours = millis / 3_600_000;
        long minutes = millis / 60_000 % 60;
        double seconds = millis % 60_000 / 1000.0;
        String secondsText = seconds == Math.rint(seconds) ? Long.toString((long) seconds)
                : String.format(Locale.ROOT, "%.3f", seconds).replaceAll("0+$", "");
        StringBuilder out = new StringBuilder();
        if (hours > 0) {
            out.append(hours).append('h');
        }
        if (hours > 0 || minutes > 0) {
            out.append(minutes).append('m');
        }
        return out.append(secondsText).append('s').toString();
    }
}
