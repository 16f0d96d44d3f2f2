package dev.caravan.tasks;

import java.util.ArrayList;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * With Redis, this instance's share of the shared queue:
 * <ul>
 *   <li>claims tasks (atomically, with a lease) while it has a free worker slot, and hands them to the
 *       tasks-worker route's SEDA queue; an empty queue is polled again after 20 ms, doubling to 500 ms;</li>
 *   <li>renews the leases of the tasks it holds, three times a lease;</li>
 *   <li>reaps: every gateway.task-reaper-ms, puts the tasks whose lease ran out (their instance died) back in
 *       the queue. Every instance reaps, whether its worker runs or not.</li>
 * </ul>
 * Everything runs on Vert.x timers and non-blocking Redis calls: no thread waits on Redis.
 */
final class RedisTaskFeeder {

    private static final Logger LOG = LoggerFactory.getLogger(RedisTaskFeeder.class);
    private static final long MIN_POLL_MILLIS = 20;
    private static final long MAX_POLL_MILLIS = 500;
    private static final long WARN_EVERY_MILLIS = 10_000;

    private final RedisTaskStore store;
    private final Vertx vertx;
    private final WorkerQueue workerQueue;
    private final TaskSettings settings;
    private final Set<String> held = ConcurrentHashMap.newKeySet();
    private int reserved;
    private long pollMillis = MIN_POLL_MILLIS;
    private long pollTimer = -1;
    private long renewTimer = -1;
    private long reapTimer = -1;
    private boolean running;
    private volatile long lastWarning;

    RedisTaskFeeder(RedisTaskStore store, Vertx vertx, WorkerQueue workerQueue, TaskSettings settings) {
        this.store = store;
        this.vertx = vertx;
        this.workerQueue = workerQueue;
        this.settings = settings;
    }

    synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        reapTimer = vertx.setPeriodic(settings.reaperMillis(), id -> reap());
        if (settings.workerEnabled()) {
            renewTimer = vertx.setPeriodic(Math.max(100, settings.leaseMillis() / 3), id -> renew());
            vertx.runOnContext(v -> pump());
        }
        LOG.info("Task queue {} in Redis: {} worker slots on this instance, lease {} s, reaper every {} ms",
                settings.queueName(), settings.workerEnabled() ? settings.workers() : 0,
                settings.leaseMillis() / 1000, settings.reaperMillis());
    }

    /** Stops claiming; the leases of held tasks run out unless their attempts give them back first. */
    synchronized void stop() {
        running = false;
        for (long timer : new long[] {pollTimer, renewTimer, reapTimer}) {
            if (timer >= 0) {
                vertx.cancelTimer(timer);
            }
        }
        pollTimer = renewTimer = reapTimer = -1;
    }

    /** A task was queued by this instance: look now instead of at the next poll. */
    void poke() {
        synchronized (this) {
            pollMillis = MIN_POLL_MILLIS;
            if (pollTimer >= 0) {
                vertx.cancelTimer(pollTimer);
                pollTimer = -1;
            }
        }
        pump();
    }

    /** The worker slot of a task was released: its lease is no longer renewed, and another task may be claimed. */
    void released(String taskId) {
        if (taskId == null || !held.remove(taskId)) {
            return;
        }
        synchronized (this) {
            reserved--;
        }
        pump();
    }

    private void pump() {
        synchronized (this) {
            if (!running || !settings.workerEnabled() || pollTimer >= 0 || reserved >= settings.workers()) {
                return;
            }
            reserved++;
        }
        store.claim().onComplete(ar -> {
            if (ar.succeeded() && ar.result() != null) {
                TaskStore.Claim claim = ar.result();
                held.add(claim.task().id());
                synchronized (this) {
                    pollMillis = MIN_POLL_MILLIS;
                }
                handOver(claim);
                pump();
                return;
            }
            synchronized (this) {
                reserved--;
            }
            if (ar.failed()) {
                warn("Tasks cannot be claimed from Redis: " + ar.cause());
            }
            idle();
        });
    }

    private void handOver(TaskStore.Claim claim) {
        try {
            workerQueue.offer(claim);
        } catch (RuntimeException e) {
            // cannot happen while slots bound the claims; if it does, the lease runs out and it is reaped
            LOG.warn("Claimed task {} could not be handed to the worker: {}", claim.task().id(), e.toString());
            released(claim.task().id());
        }
    }

    private void idle() {
        synchronized (this) {
            if (!running || pollTimer >= 0) {
                return;
            }
            long delay = pollMillis;
            pollMillis = Math.min(MAX_POLL_MILLIS, pollMillis * 2);
            pollTimer = vertx.setTimer(delay, id -> {
                synchronized (this) {
                    pollTimer = -1;
                }
                pump();
            });
        }
    }

    private void renew() {
        if (held.isEmpty()) {
            return;
        }
        store.renew(new ArrayList<>(held)).onFailure(failure -> warn(
                "Task leases cannot be renewed in Redis (other instances may run these tasks again): " + failure));
    }

    private void reap() {
        store.reap().onComplete(ar -> {
            if (ar.failed()) {
                warn("Task leases cannot be checked in Redis: " + ar.cause());
            } else if (ar.result() > 0) {
                LOG.info("{} task(s) whose instance stopped holding them are queued again", ar.result());
                poke();
            }
        });
    }

    private void warn(String message) {
        long now = System.currentTimeMillis();
        if (now - lastWarning >= WARN_EVERY_MILLIS) {
            lastWarning = now;
            LOG.warn(message);
        }
    }
}
