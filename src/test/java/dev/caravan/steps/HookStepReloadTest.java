package dev.caravan.steps;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.support.Await;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.TestRoutes;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hook step added to, changed in and removed from mid-hooks of a running gateway (the route reload builds the
 * edited file, kamelet included, before it swaps): each edit takes effect, requests flowing meanwhile answer 200
 * (or, in the instant the reload swaps the route, 503 not_ready with retry-after, as for any route file), and the
 * kamelet routes of replaced versions do not pile up. An edit whose step its bean refuses (a bad parameter) is
 * refused whole, named in /health, and the running version goes on.
 */
class HookStepReloadTest {

    @Test
    void aStepIsAddedChangedAndRemovedWithoutARestart() throws Exception {
        TestRoutes routes = TestRoutes.copy();
        Path midHooks = routes.dir().resolve("30-mid-hooks.camel.yaml");
        String original = Files.readString(midHooks);
        try (UpstreamEmulator upstream = UpstreamEmulator.start();
             GatewayInstance gateway = GatewayInstance.builder().config("""
                     backends:
                       emu: {type: openai, url: "%s"}
                     models:
                       auto: {backend: emu}
                       model-a: {backend: emu}
                       model-b: {backend: emu}
                     """.formatted(upstream.baseUrl())).watchingRoutes(routes.dir()).start()) {
            List<Integer> statuses = new CopyOnWriteArrayList<>();
            AtomicBoolean running = new AtomicBoolean(true);
            Thread traffic = new Thread(() -> {
                while (running.get()) {
                    HttpResponse<String> response = Calls.chat(gateway, "auto");
                    statuses.add(response.statusCode() == 503 && Calls.errorCode(response).equals("not_ready")
                            ? 200 : response.statusCode());
                }
            });
            traffic.start();
            try {
                for (String target : new String[] {"model-a", "model-b", "model-a"}) {
                    write(midHooks, original.stripTrailing() + "\n        - to: {uri: \"kamelet:set-params-action\", "
                            + "parameters: {models: \"auto=" + target + "\"}}\n");
                    awaitModel(gateway, upstream, target);
                    // the route of the version replaced went; the one in use stayed, and serves
                    Await.value("one set-params kamelet route", () -> kameletRoutes(gateway), n -> n == 1,
                            Duration.ofSeconds(10));
                    assertEquals(200, Calls.chat(gateway, "auto").statusCode());
                    assertEquals(target, upstream.lastRequestBody().getString("model"));
                }
                // a step whose parameters its bean refuses: the edit is refused, model-a's step keeps running
                write(midHooks, original.stripTrailing() + "\n        - to: {uri: \"kamelet:set-params-action\", "
                        + "parameters: {ceilings: \"max_tokens=lots\"}}\n");
                Await.value("the refused edit in /health", () -> gateway.get("/health").body(),
                        body -> body.contains("max_tokens=lots"), Duration.ofSeconds(20));
                assertEquals(200, Calls.chat(gateway, "auto").statusCode());
                assertEquals("model-a", upstream.lastRequestBody().getString("model"));
                Await.value("no kamelet route left by the refused edit", () -> kameletRoutes(gateway), n -> n == 1,
                        Duration.ofSeconds(10));
                write(midHooks, original);
                awaitModel(gateway, upstream, "auto");
            } finally {
                running.set(false);
                traffic.join();
            }
            assertTrue(statuses.size() > 10, "requests flowed: " + statuses.size());
            assertTrue(statuses.stream().allMatch(s -> s == 200), "every request answered 200 (or not_ready): "
                    + statuses);
            Await.value("the step gone, and its kamelet route with it", () -> kameletRoutes(gateway), n -> n == 0,
                    Duration.ofSeconds(10));
        }
    }

    private static long kameletRoutes(GatewayInstance gateway) {
        return gateway.camel().getRoutes().stream().filter(r -> r.getRouteId().startsWith("set-params-action")).count();
    }

    private static void awaitModel(GatewayInstance gateway, UpstreamEmulator upstream, String model) {
        Await.value("the upstream sees model " + model, () -> {
            HttpResponse<String> response = Calls.chat(gateway, "auto");
            return response.statusCode() == 200 ? upstream.lastRequestBody().getString("model") : "";
        }, model::equals, Duration.ofSeconds(20));
    }

    private static void write(Path file, String yaml) throws Exception {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, yaml);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
