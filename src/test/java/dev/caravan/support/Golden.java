package dev.caravan.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Checked-in transcripts of exactly what a client receives, compared byte for byte but for ids and timestamps.
 * Run with -Dgolden.update=true to rewrite them, then review the diff.
 */
public final class Golden {

    private Golden() {
    }

    public static void assertMatches(String name, String actual) throws IOException {
        String normalized = actual.replaceAll("\"id\":\"[^\"]+\"", "\"id\":\"ID\"")
                .replaceAll("\"created\":\\d+", "\"created\":0");
        Path file = Path.of("src/test/resources/golden", name);
        if (Boolean.getBoolean("golden.update")) {
            Files.writeString(file, normalized, StandardCharsets.UTF_8);
        }
        assertEquals(Files.readString(file, StandardCharsets.UTF_8), normalized, "golden transcript " + name);
    }
}
