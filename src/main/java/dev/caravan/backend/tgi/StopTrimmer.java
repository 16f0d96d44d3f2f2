package dev.caravan.backend.tgi;

import java.util.List;

/**
 * Cuts generated text at the first stop sequence, piece by piece as it streams: text that could be the start
 * of a stop is held back until the next piece shows whether it is one; what follows a stop is dropped.
 * TGI keeps the text of the token that completed a stop in its output, and is told only the first four stops,
 * so the gateway applies every stop itself.
 */
final class StopTrimmer {
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;

    StopTrimmer(List<String> stops) {
        this.stops = stops;
    }

    /** The part of {@code piece} (with what was held back) that is safe to pass on now. */
    String accept(String piece) {
        if (stopped) {
            return "";
        }
        if (stops.isEmpty()) {
            return piece;
        }
        pending.append(piece);
        int cut = -1;
        for (String stop : stops) {
            int at = pending.indexOf(stop);
            if (at >= 0 && (cut < 0 || at < cut)) {
                cut = at;
            }
        }
        if (cut >= 0) {
            stopped = true;
            String out = pending.substring(0, cut);
            pending.setLength(0);
            return out;
        }
        int keep = heldBack();
        String out = pending.substring(0, pending.length() - keep);
        pending.delete(0, pending.length() - keep);
        return out;
    }

    /** The text still held back, once the upstream has finished without completing a stop. */
    String flush() {
        String out = pending.toString();
        pending.setLength(0);
        return out;
    }

    boolean stopped() {
        return stopped;
    }

    /** Length of the longest end of the pending text that some stop begins with. */
    private int heldBack() {
        int longest = 0;
        for (String stop : stops) {
            longest = Math.max(longest, stop.length());
        }
        for (int k = Math.min(pending.length(), longest - 1); k > 0; k--) {
            String tail = pending.substring(pending.length() - k);
            for (String stop : stops) {
                if (stop.length() > k && stop.startsWith(tail)) {
                    return k;
                }
            }
        }
        return 0;
    }
}
