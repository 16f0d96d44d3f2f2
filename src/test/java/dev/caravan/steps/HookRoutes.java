package dev.caravan.steps;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * A copy of the project's routes/ in a folder, with steps put first in a hook route, as an operator would edit it:
 * {@code HookRoutes.copy(dir).prepend("mid-hooks", "- to: kamelet:sanitize-action")}.
 */
final class HookRoutes {

    private final Path folder;

    private HookRoutes(Path folder) {
        this.folder = folder;
    }

    static HookRoutes copy(Path folder) {
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".camel.yaml"))::iterator) {
                Files.copy(file, folder.resolve(file.getFileName()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new HookRoutes(folder);
    }

    Path folder() {
        return folder;
    }

    /** The YAML steps (a list, unindented) go first in the route with this id, in whichever file holds it. */
    HookRoutes prepend(String routeId, String steps) {
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String yaml = Files.readString(file);
                int id = yaml.indexOf("id: " + routeId + "\n");
                if (id < 0) {
                    continue;
                }
                int stepsLine = yaml.indexOf("steps:\n", id);
                int first = stepsLine + "steps:\n".length();
                int indent = 0;
                while (yaml.charAt(first + indent) == ' ') {
                    indent++;
                }
                String pad = " ".repeat(indent);
                String inserted = pad + steps.strip().replace("\n", "\n" + pad) + "\n";
                Files.writeString(file, yaml.substring(0, first) + inserted + yaml.substring(first));
                return this;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalArgumentException("no route " + routeId + " in " + folder);
    }
}
