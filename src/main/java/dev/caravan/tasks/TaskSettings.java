package dev.caravan.tasks;

import org.apache.camel.CamelContext;

/**
 * The task and DLQ settings of application.properties (each with its environment override: TASK_WORKER_ENABLED,
 * TASK_QUEUE_NAME, TASK_DLQ_NAME, or the key in upper case, e.g. GATEWAY_TASK_WORKERS).
 *
 * @param workers          tasks one instance runs at once
 * @param queueSize        tasks waiting at most (memory: the SEDA queue; Redis: the shared list); more → 503
 * @param maxAttempts      starts of a task before it fails (upstream-class failures and lost workers are retried)
 * @param ttlSeconds       how long a finished task's state stays readable
 * @param leaseMillis      Redis: how long a claimed task stays with its instance without a renewal
 * @param reaperMillis     Redis: how often each instance looks for leases that ran out
 * @param retryBackoffMillis pause before a failed attempt is queued again (times the attempt number)
 * @param timeoutSeconds   longest run of one attempt; longer → 504, retried
 * @param redisTimeoutMillis longest wait for one Redis operation
 * @param callbackAllowedHosts CALLBACK_ALLOWED_HOSTS: where callbacks may go (see outbound.AllowedHosts)
 */
record TaskSettings(boolean workerEnabled, String queueName, String dlqName, int workers, int queueSize,
                    int maxAttempts, long ttlSeconds, long leaseMillis, long reaperMillis, long retryBackoffMillis,
                    int dlqSize, long timeoutSeconds, long callbackTimeoutMillis, long redisTimeoutMillis,
                    String callbackAllowedHosts) {

    /** The SEDA queue of the tasks-worker route; the same URI as its consumer's, so both agree on its size. */
    static final String WORKER_QUEUE = "seda:caravan-tasks?size={{gateway.task-queue-size}}";

    static TaskSettings from(CamelContext camel) {
        return new TaskSettings(
                Boolean.parseBoolean(property(camel, "gateway.task-worker-enabled", "true")),
                property(camel, "gateway.task-queue-name", "caravan:tasks"),
                property(camel, "gateway.task-dlq-name", "caravan:dlq"),
                Math.max(1, Integer.parseInt(property(camel, "gateway.task-workers", "4"))),
                Math.max(1, Integer.parseInt(property(camel, "gateway.task-queue-size", "1000"))),
                Math.max(1, Integer.parseInt(property(camel, "gateway.task-max-attempts", "3"))),
                Math.max(1, Long.parseLong(property(camel, "gateway.task-ttl-seconds", "86400"))),
                Math.max(1, Long.parseLong(property(camel, "gateway.task-lease-seconds", "30"))) * 1000,
                Math.max(100, Long.parseLong(property(camel, "gateway.task-reaper-ms", "2000"))),
                Math.max(0, Long.parseLong(property(camel, "gateway.task-retry-backoff-ms", "1000"))),
                Math.max(1, Integer.parseInt(property(camel, "gateway.dlq-size", "1000"))),
                Math.max(1, Long.parseLong(property(camel, "gateway.task-timeout-seconds", "600"))),
                Math.max(100, Long.parseLong(property(camel, "gateway.task-callback-timeout-ms", "10000"))),
                Math.max(100, Long.parseLong(property(camel, "gateway.task-redis-timeout-ms", "2000"))),
                property(camel, "gateway.callback-allowed-hosts", ""));
    }

    private static String property(CamelContext camel, String key, String fallback) {
        String value = camel.resolvePropertyPlaceholders("{{" + key + ":" + fallback + "}}");
        return value == null || value.isBlank() ? fallback : value.trim();
    }
}
