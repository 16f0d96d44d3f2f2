package dev.caravan.lane;

import java.util.Arrays;

/** The last N queue waits of a lane, for its p50/p99 in /v1/lanes and JMX; cheap to record, sorted on read. */
final class WaitTimes {

    private final long[] nanos;
    private int next;
    private int count;

    WaitTimes(int size) {
        this.nanos = new long[size];
    }

    synchronized void record(long waitedNanos) {
        nanos[next] = waitedNanos;
        next = (next + 1) % nanos.length;
        count = Math.min(count + 1, nanos.length);
    }

    synchronized double percentileMillis(double percentile) {
        if (count == 0) {
            return 0;
        }
        long[] sorted = Arrays.copyOf(nanos, count);
        Arrays.sort(sorted);
        int index = (int) Math.min(count - 1, Math.ceil(percentile * count) - 1);
        return sorted[Math.max(0, index)] / 1_000_000.0;
    }
}
