package dev.caravan.limits;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import dev.caravan.state.LuaScript;
import dev.caravan.state.RedisConnection;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The buckets in Redis, shared by every gateway instance that uses it: each admission or settlement is one run
 * of lua/token-buckets.lua (EVALSHA, and EVAL when the server does not know the script yet, which also loads
 * it), so the check and the take are one atomic step and time comes from Redis. Keys:
 * {@code caravan:rl:req:<key id>} and {@code caravan:rl:tok:<key id>}, expiring once full again.
 * <p>
 * A token reservation is also a hold in {@code caravan:rl:res:<key id>} under a lease of {@code leaseMillis}: this
 * instance renews the leases of the holds it has in flight (one script run per key every third of a lease, from
 * one timer), and the next call for the key gives back a hold whose lease ran out, so the reservations of an
 * instance that died (kill -9) come back within a lease instead of holding the key's tokens.
 * <p>
 * Every call is bounded by {@code timeoutMillis}: a Redis that does not answer fails the future, and the caller
 * decides (the rate-limit step fails open).
 */
public final class RedisBuckets implements BucketStore {

    private static final LuaScript SCRIPT = LuaScript.load("token-buckets");
    private static final String PREFIX = "caravan:rl:";
    private static final Logger LOG = LoggerFactory.getLogger(RedisBuckets.class);

    private final RedisConnection redis;
    private final Vertx vertx;
    private final long timeoutMillis;
    private final long leaseMillis;
    /** The holds in flight on this instance, by key id, to renew: a few per key, so one script run per key. */
    private final Map<String, Held> held = new ConcurrentHashMap<>();
    private long renewTimer = -1;

    public RedisBuckets(RedisConnection redis, Vertx vertx, long timeoutMillis, long leaseMillis) {
        this.redis = redis;
        this.vertx = vertx;
        this.timeoutMillis = timeoutMillis;
        this.leaseMillis = Math.max(1000, leaseMillis);
    }

    /** Starts renewing the leases of this instance's holds. */
    public synchronized void start() {
        if (renewTimer < 0) {
            renewTimer = vertx.setPeriodic(leaseMillis / 3, id -> renew());
        }
    }

    public static String requestKey(String id) {
        return PREFIX + "req:" + id;
    }

    public static String tokenKey(String id) {
        return PREFIX + "tok:" + id;
    }

    public static String holdsKey(String id) {
        return PREFIX + "res:" + id;
    }

    @Override
    public Future<Admission> take(Limits limits, long tokens, String hold) {
        String member = hold == null || tokens <= 0 || !limits.limitsTokens() ? null : hold + ":" + tokens;
        if (member != null) {
            // held before the answer: a renewal that runs first finds nothing to extend (ZADD XX) and does no harm
            held.compute(limits.id(), (id, of) -> {
                Held into = of != null ? of : new Held(limits);
                into.members.add(member); // inside compute: renew() cannot drop the entry in between
                return into;
            });
        }
        return run(limits, tokens, ADMIT, member == null ? List.of() : List.of(hold)).map(reply -> {
            Admission admission = new Admission(Admission.refusal(reply.get(0).toLong()), reply.get(1).toDouble(),
                    reply.get(2).toDouble(), reply.get(3).toLong());
            if (member != null && !admission.allowed()) {
                release(limits.id(), member);
            }
            return admission;
        }).onFailure(failure -> {
            if (member != null) {
                release(limits.id(), member); // unknown to Redis, or left there to expire: not ours to renew
            }
        });
    }

    @Override
    public Future<Void> settle(Limits limits, String hold, long reserved, long used) {
        if (!limits.limitsTokens()) {
            return Future.succeededFuture();
        }
        if (hold == null) {
            return reserved == used ? Future.succeededFuture()
                    : run(limits, used - reserved, SETTLE, List.of()).mapEmpty();
        }
        String member = hold + ":" + reserved;
        release(limits.id(), member);
        return run(limits, used - reserved, SETTLE, List.of(member, Long.toString(reserved))).mapEmpty();
    }

    @Override
    public String kind() {
        return "redis";
    }

    private void release(String keyId, String member) {
        Held of = held.get(keyId);
        if (of != null) {
            of.members.remove(member);
        }
    }

    /** Extends the leases of the holds in flight here: one script run per key that has any. */
    private void renew() {
        held.forEach((keyId, of) -> {
            if (of.members.isEmpty()) {
                held.computeIfPresent(keyId, (id, now) -> now.members.isEmpty() ? null : now); // idle keys cost nothing
                return;
            }
            run(of.limits, 0, RENEW, List.copyOf(of.members)).onFailure(failure -> LOG.debug(
                    "Token holds of a key not renewed: {}", failure.toString())); // the next tick tries again
        });
    }

    private static final String SETTLE = "0";
    private static final String ADMIT = "1";
    private static final String RENEW = "2";

    private Future<Response> run(Limits limits, long tokens, String mode, List<String> extra) {
        List<String> args = new ArrayList<>(8 + extra.size());
        args.add(Long.toString(limits.limitsRequests() ? limits.requestCapacity() : 0));
        args.add(Long.toString(limits.requestsPerMin()));
        args.add(Long.toString(limits.limitsTokens() ? limits.tokenCapacity() : 0));
        args.add(Long.toString(limits.tokensPerMin()));
        args.add(Long.toString(tokens));
        args.add(mode);
        args.add(Long.toString(leaseMillis));
        args.addAll(extra);
        return SCRIPT.run(redis, vertx, timeoutMillis,
                List.of(requestKey(limits.id()), tokenKey(limits.id()), holdsKey(limits.id())), args);
    }

    /** The holds of one key in flight on this instance. */
    private static final class Held {
        final Limits limits;
        final Set<String> members = ConcurrentHashMap.newKeySet();

        Held(Limits limits) {
            this.limits = limits;
        }
    }
}
