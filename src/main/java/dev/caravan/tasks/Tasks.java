package dev.caravan.tasks;

import dev.caravan.exchange.Jmx;
import dev.caravan.outbound.AllowedHosts;
import dev.caravan.outbound.DestinationCheck;
import dev.caravan.state.RedisConnection;
import io.vertx.core.Vertx;
import org.apache.camel.CamelContext;
import org.apache.camel.StartupListener;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.spi.Registry;
import org.apache.camel.support.EventNotifierSupport;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Background tasks and the dead-letter queue: binds the beans routes/80-tasks.camel.yaml and the dead-letter
 * route use, in memory or, with REDIS_URL, in Redis, and runs what goes on beside the routes (the Redis claimer,
 * lease renewals and reaper; the expiry of finished tasks in memory).
 */
public final class Tasks {

    private static final Logger LOG = LoggerFactory.getLogger(Tasks.class);

    private Tasks() {
    }

    /** @param redis the shared Redis, or null for memory */
    public static void install(CamelContext camel, Vertx vertx, RedisConnection redis) throws Exception {
        TaskSettings settings = TaskSettings.from(camel);
        WorkerQueue workerQueue = new WorkerQueue(camel, TaskSettings.WORKER_QUEUE);
        TaskStore store;
        DeadLetterStore deadLetters;
        RedisTaskFeeder feeder = null;
        MemoryTaskStore memory = null;
        if (redis != null) {
            RedisTaskStore redisStore = new RedisTaskStore(redis, vertx, settings.queueName(), settings.leaseMillis(),
                    settings.ttlSeconds(), settings.queueSize(), settings.redisTimeoutMillis());
            store = redisStore;
            deadLetters = new RedisDeadLetters(redis, vertx, settings.dlqName(), settings.dlqSize(),
                    settings.redisTimeoutMillis());
            feeder = new RedisTaskFeeder(redisStore, vertx, workerQueue, settings);
        } else {
            memory = new MemoryTaskStore(workerQueue, vertx, settings.ttlSeconds());
            store = memory;
            deadLetters = new MemoryDeadLetters(settings.dlqSize());
        }
        RedisTaskFeeder claimer = feeder;
        Runnable onEnqueued = claimer == null ? () -> { } : claimer::poke;
        // a bad entry stops the start: an allow-list that silently allows more than written would fail open
        DestinationCheck destinations = new DestinationCheck(vertx,
                AllowedHosts.parse(settings.callbackAllowedHosts(), "CALLBACK_ALLOWED_HOSTS"));
        TaskCallbacks callbacks = new TaskCallbacks(vertx, settings.callbackTimeoutMillis(), destinations);
        TaskRun run = new TaskRun(camel, vertx, store, settings);
        TaskSettle settle = new TaskSettle(store, deadLetters, callbacks, settings);

        Registry registry = camel.getRegistry();
        registry.bind("taskEnqueue", new TaskEnqueue(store, onEnqueued, destinations));
        registry.bind("taskStatus", new TaskStatus(store));
        registry.bind("taskSlots", new TaskSlots(settings.workers(), claimer == null ? id -> { } : claimer::released));
        registry.bind("taskRun", run);
        registry.bind("taskSettle", settle);
        registry.bind("deadLetterRecord", new DeadLetterRecord(deadLetters));
        registry.bind("deadLetterList", new DeadLetterList(deadLetters));
        DeadLetterReplay replay = new DeadLetterReplay(deadLetters, store, onEnqueued);
        registry.bind("deadLetterReplay", replay);
        registry.bind("deadLetterDelete", new DeadLetterDelete(deadLetters));

        MemoryTaskStore states = memory;
        ManagedTasks managed = new ManagedTasks(store, deadLetters, replay);
        camel.addStartupListener(new StartupListener() {
            @Override
            public void onCamelContextStarted(CamelContext context, boolean alreadyStarted) {
                // the claimer starts once the worker route runs (below)
            }

            @Override
            public void onCamelContextFullyStarted(CamelContext context, boolean alreadyStarted) {
                Jmx.register(context, managed, ManagedTasks.TYPE, ManagedTasks.NAME);
                if (claimer != null) {
                    claimer.start();
                } else {
                    LOG.info("Tasks in memory: {} worker slots, queue of {}; tasks do not survive a restart "
                            + "(set REDIS_URL for that)", settings.workerEnabled() ? settings.workers() : 0,
                            settings.queueSize());
                }
            }
        });
        long sweepTimer = states == null ? -1
                : vertx.setPeriodic(Math.min(60_000, settings.ttlSeconds() * 1000), id -> states.sweep());
        // at the start of a shutdown, before the drain waits for what is in flight (api.Drain): no task starts any
        // more. With Redis the running ones are given back at once, and another instance runs them; in memory there
        // is no other instance, so the running ones get the drain's grace to finish (queued ones fail, see TaskSettle)
        camel.getManagementStrategy().addEventNotifier(new EventNotifierSupport() {
            @Override
            public void notify(CamelEvent event) {
                if (event instanceof CamelEvent.CamelContextStoppingEvent) {
                    if (claimer != null) {
                        claimer.stop();
                    }
                    settle.stopping();
                    if (claimer != null) {
                        run.cancelAll();
                    } else {
                        run.startNoMore();
                    }
                }
            }

            @Override
            public boolean isEnabled(CamelEvent event) {
                return event instanceof CamelEvent.CamelContextStoppingEvent;
            }
        });
        camel.addService(new ServiceSupport() {
            @Override
            protected void doStop() {
                if (claimer != null) {
                    claimer.stop();
                }
                if (sweepTimer >= 0) {
                    vertx.cancelTimer(sweepTimer);
                }
                workerQueue.close();
                callbacks.close();
            }
        });
    }
}
