package dev.caravan.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * A copy of the project's routes/ in a folder of its own, for a test to edit as an operator would (a step added
 * to mid-hooks, post-hooks, stream-hooks) and start a gateway on: {@link GatewayInstance.Builder#routes(Path)}.
 */
public final class TestRoutes {

    private final Path dir;

    private TestRoutes(Path dir) {
        this.dir = dir;
    }

    /** The project's *.camel.yaml files, copied into a new temporary folder. */
    public static TestRoutes copy() {
        try {
            Path dir = Files.createTempDirectory("caravan-routes");
            try (Stream<Path> files = Files.list(Path.of("routes"))) {
                for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".camel.yaml"))::iterator) {
                    Files.copy(file, dir.resolve(file.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            return new TestRoutes(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path dir() {
        return dir;
    }

    /** Rewrites one file; fails when the edit changed nothing (the text it looked for is gone). */
    public TestRoutes edit(String file, UnaryOperator<String> change) {
        try {
            Path path = dir.resolve(file);
            String before = Files.readString(path);
            String after = change.apply(before);
            if (after.equals(before)) {
                throw new IllegalStateException("The edit of " + file + " changed nothing");
            }
            Files.writeString(path, after);
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Adds steps at the end of the first route of {@code file} (indented as its other steps). */
    public TestRoutes append(String file, String steps) {
        return edit(file, text -> {
            int routeEnd = text.indexOf("\n- route:", text.indexOf("- route:") + 1);
            String indented = steps.stripTrailing().indent(8);
            return routeEnd < 0 ? text.stripTrailing() + "\n" + indented
                    : text.substring(0, routeEnd + 1) .replaceFirst("\\s*$", "\n") + indented + text.substring(routeEnd + 1);
        });
    }
}
