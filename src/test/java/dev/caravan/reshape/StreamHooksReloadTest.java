package dev.caravan.reshape;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

import dev.caravan.support.Await;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.RawHttp;
import dev.caravan.support.TestRoutes;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The stream hook point follows edits of routes/65-stream-hooks.camel.yaml in a running gateway: the shipped route
 * (TRACE log only) is skipped, a step added is run on every chunk, and the step removed again is skipped again.
 */
class StreamHooksReloadTest {

    private static final String STREAM = "{\"model\":\"caravan-echo\",\"stream\":true,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"one two three\"}]}";

    @Test
    void aStepAddedToStreamHooksRunsOnEveryChunkAndRemovedItIsSkippedAgain() throws Exception {
        TestRoutes routes = TestRoutes.copy();
        Path file = routes.dir().resolve("65-stream-hooks.camel.yaml");
        String shipped = Files.readString(file);
        try (GatewayInstance gateway = GatewayInstance.builder().watchingRoutes(routes.dir()).start()) {
            assertFalse(stream(gateway).contains("x_hooked"));

            String hooked = shipped.stripTrailing() + "\n        - transform: {jq: '.x_hooked = true'}\n";
            write(file, hooked);
            Await.value("chunks passing the added step", () -> stream(gateway), body -> countHooked(body) > 0,
                    Duration.ofSeconds(20));
            String body = stream(gateway);
            assertEquals(body.split("\n\n").length - 1, countHooked(body), "every chunk but [DONE]: " + body);

            write(file, shipped);
            Await.value("chunks skipping the hooks again", () -> stream(gateway), b -> countHooked(b) == 0,
                    Duration.ofSeconds(20));
        }
    }

    private static String stream(GatewayInstance gateway) {
        try {
            RawHttp.Response response = Calls.rawChat(gateway, STREAM);
            return response.status == 200 ? response.body : "status " + response.status;
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    private static int countHooked(String body) {
        return body.split("\"x_hooked\":true", -1).length - 1;
    }

    private static void write(Path file, String content) throws java.io.IOException {
        Path next = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.writeString(next, content);
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
