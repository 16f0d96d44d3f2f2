package dev.caravan.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.openai.Json;
import dev.caravan.support.GatewayInstance;
import org.junit.jupiter.api.Test;

/**
 * A stop without Redis, where no other instance could take a task over: the running task gets the drain's grace to
 * finish and ends done; a task still queued fails with gateway_stopping (its callback says so) instead of vanishing.
 */
class TaskDrainInMemoryTest {

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    @Test
    void theRunningTaskFinishesWithinTheGraceAndTheQueuedOneFails() throws Exception {
        try (UpstreamEmulator upstream = UpstreamEmulator.start();
             CallbackReceiver callbacks = new CallbackReceiver()) {
            upstream.firstTokenDelayMs(1_500);
            GatewayInstance gateway = GatewayInstance.builder().config("""
                            backends:
                              emu: {type: openai, url: "%s"}
                            models:
                              task-model: {backend: emu}
                            """.formatted(upstream.baseUrl()))
                    .property("gateway.callback-allowed-hosts", "127.0.0.1")
                    .property("gateway.task-workers", "1")
                    .property("gateway.drain-grace-seconds", "20")
                    .start();
            try {
                String running = enqueue(gateway, callbacks.url("/running"));
                TaskPolling.awaitStatus(gateway, running, null, Set.of("running"), DEADLINE);
                String queued = enqueue(gateway, callbacks.url("/queued"));
                assertEquals("queued", Json.MAPPER.readTree(TaskPolling.get(gateway, "/tasks/" + queued, null).body())
                        .path("status").asText());
            } finally {
                gateway.close(); // the drain runs here
            }
            CallbackReceiver.Call done = callbacks.await("/running", DEADLINE.toMillis());
            assertNotNull(done, "the running task's callback");
            assertEquals("done", done.body().path("status").asText(), done.body().toString());
            CallbackReceiver.Call failed = callbacks.await("/queued", DEADLINE.toMillis());
            assertNotNull(failed, "the queued task's callback");
            assertEquals("failed", failed.body().path("status").asText(), failed.body().toString());
            assertEquals("gateway_stopping", failed.body().at("/error/code").asText(), failed.body().toString());
        }
    }

    private static String enqueue(GatewayInstance gateway, String callbackUrl) throws Exception {
        HttpResponse<String> accepted = TaskPolling.post(gateway, "/tasks/enqueue", null, """
                {"model":"task-model","callback_url":"%s","messages":[{"role":"user","content":"later"}]}"""
                .formatted(callbackUrl));
        assertEquals(202, accepted.statusCode(), accepted.body());
        JsonNode task = Json.MAPPER.readTree(accepted.body());
        return task.get("id").asText();
    }
}
