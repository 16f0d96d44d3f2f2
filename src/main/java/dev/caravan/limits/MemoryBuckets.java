package dev.caravan.limits;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

import io.vertx.core.Future;

/**
 * The buckets of one gateway instance, for when there is no Redis: the arithmetic of lua/token-buckets.lua on
 * a map, refilled lazily from a monotonic clock when touched.
 */
public final class MemoryBuckets implements BucketStore {

    private final Map<String, KeyBuckets> buckets = new ConcurrentHashMap<>();
    private final LongSupplier nanoClock;

    public MemoryBuckets() {
        this(System::nanoTime);
    }

    MemoryBuckets(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /** Holds need no lease here: they live and die with this process, as the buckets do. */
    @Override
    public Future<Admission> take(Limits limits, long tokens, String hold) {
        return take(limits, tokens);
    }

    @Override
    public Future<Void> settle(Limits limits, String hold, long reserved, long used) {
        return giveBack(limits, reserved - used);
    }

    public Future<Admission> take(Limits limits, long tokens) {
        return Future.succeededFuture(of(limits).take(limits, tokens, now()));
    }

    /** Gives {@code tokens} back to the token bucket (negative: charges more). */
    public Future<Void> giveBack(Limits limits, long tokens) {
        of(limits).giveBack(limits, tokens, now());
        return Future.succeededFuture();
    }

    @Override
    public String kind() {
        return "memory";
    }

    private KeyBuckets of(Limits limits) {
        return buckets.computeIfAbsent(limits.id(), id -> new KeyBuckets());
    }

    private double now() {
        return nanoClock.getAsLong() / 1_000_000.0;
    }

    /** Both buckets of a key, changed together under one lock. */
    private static final class KeyBuckets {
        private final Bucket requests = new Bucket();
        private final Bucket tokens = new Bucket();

        synchronized Admission take(Limits limits, long cost, double now) {
            double requestLevel = limits.limitsRequests() ? requests.level(now, limits.requestCapacity(),
                    limits.requestsPerMin()) : 0;
            double tokenLevel = limits.limitsTokens() ? tokens.level(now, limits.tokenCapacity(),
                    limits.tokensPerMin()) : 0;
            Admission.Refusal refused = Admission.Refusal.NONE;
            double wait = 0;
            if (limits.limitsRequests() && requestLevel < 1) {
                refused = Admission.Refusal.REQUESTS;
                wait = (1 - requestLevel) * 60_000.0 / limits.requestsPerMin();
            }
            double need = Math.min(cost, limits.tokenCapacity());
            if (limits.limitsTokens() && tokenLevel < need) {
                wait = Math.max(wait, (need - tokenLevel) * 60_000.0 / limits.tokensPerMin());
                if (refused == Admission.Refusal.NONE) {
                    refused = Admission.Refusal.TOKENS;
                }
            }
            if (refused == Admission.Refusal.NONE) {
                if (limits.limitsRequests()) {
                    requestLevel -= 1;
                    requests.set(requestLevel, now);
                }
                if (limits.limitsTokens() && cost != 0) {
                    tokenLevel = Math.min(limits.tokenCapacity(), tokenLevel - cost);
                    tokens.set(tokenLevel, now);
                }
            }
            return new Admission(refused, requestLevel, tokenLevel, (long) Math.ceil(wait));
        }

        synchronized void giveBack(Limits limits, long back, double now) {
            if (!limits.limitsTokens() || back == 0) {
                return;
            }
            double level = tokens.level(now, limits.tokenCapacity(), limits.tokensPerMin());
            tokens.set(Math.min(limits.tokenCapacity(), level + back), now);
        }
    }

    /** A level and when it was last set; null level = never touched = full. */
    private static final class Bucket {
        private Double level;
        private double at;

        double level(double now, long capacity, long perMin) {
            if (level == null) {
                return capacity;
            }
            double refilled = now > at ? level + (now - at) * perMin / 60_000.0 : level;
            return Math.min(capacity, refilled);
        }

        void set(double level, double at) {
            this.level = level;
            this.at = at;
        }
    }
}
