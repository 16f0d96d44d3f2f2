package dev.caravan.pipelines;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import dev.caravan.config.RouteReloadFailures;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * routes/pipelines/ (gateway.pipelines-dir): one pipeline per {@code <name>.pipeline.yaml} file. Files dropped in,
 * edited or deleted are picked up by polling (a stat per file a second, as gateway.yaml is watched: it works on
 * every file system, containers' mounts included); the admin API writes and deletes files here, so what it adds
 * survives a restart. A file that does not load is a WARN with its reason, and stands in /health (degraded) until a
 * good edit of it loads or it is deleted; the version that ran before stays.
 * Camel's own route watcher never sees these files: its pattern is *.camel.yaml in routes/ alone.
 */
public final class PipelineFolder {

    static final String SUFFIX = ".pipeline.yaml";
    private static final Logger LOG = LoggerFactory.getLogger(PipelineFolder.class);

    /** What the folder held when last looked at: a file's stamp and what became of it. */
    /**
     * What a look saw of a file. The file key (device and inode) is part of it: a file saved by rename (as editors
     * and the admin API do) is a new inode, so an edit of the same size within the file system's timestamp tick
     * (a few ms) is still seen.
     */
    private record Seen(FileTime modified, long size, Object key, String text, String refusal) {
    }

    private final Path folder;
    private final Pipelines pipelines;
    private final RouteReloadFailures failures;
    private final Map<Path, Seen> seen = new HashMap<>();
    private final AtomicBoolean looking = new AtomicBoolean();
    private long timerId = -1;

    PipelineFolder(Path folder, Pipelines pipelines, RouteReloadFailures failures) {
        this.folder = folder.toAbsolutePath().normalize();
        this.pipelines = pipelines;
        this.failures = failures;
    }

    public Path folder() {
        return folder;
    }

    /** Files whose last version was refused, with the reason (their running version, if any, stays). */
    public synchronized Map<String, String> refused() {
        Map<String, String> refused = new HashMap<>();
        seen.forEach((file, state) -> {
            if (state.refusal() != null) {
                refused.put(file.toString(), state.refusal());
            }
        });
        return refused;
    }

    synchronized void watch(Vertx vertx, long periodMillis) {
        if (timerId < 0) {
            timerId = vertx.setPeriodic(periodMillis, id -> {
                // a look that outlasts the period (a slow disk, a big build) is not queued up behind itself
                if (looking.compareAndSet(false, true)) {
                    vertx.executeBlocking(() -> {
                        scan(false);
                        return null;
                    }, false).onComplete(done -> looking.set(false));
                }
            });
        }
    }

    synchronized void stopWatching(Vertx vertx) {
        if (timerId >= 0) {
            vertx.cancelTimer(timerId);
            timerId = -1;
        }
    }

    /**
     * Loads what changed since the last look (all files when {@code everything}), removes pipelines whose file is
     * gone; answers the refusals of this pass (file → reason).
     */
    synchronized Map<String, String> scan(boolean everything) {
        Map<String, String> refusals = new HashMap<>();
        List<Path> files = files();
        for (Path file : files) {
            Seen before = seen.get(file);
            Seen now = stamp(file, before);
            if (now == null || (!everything && before != null && before.modified().equals(now.modified())
                    && before.size() == now.size() && Objects.equals(before.key(), now.key()))) {
                continue;
            }
            String text = read(file);
            if (text == null || (!everything && before != null && text.equals(before.text()))) {
                if (text != null) {
                    seen.put(file, new Seen(now.modified(), now.size(), now.key(), text, before.refusal()));
                }
                continue;
            }
            String refusal = load(file, text);
            seen.put(file, new Seen(now.modified(), now.size(), now.key(), text, refusal));
            if (refusal != null) {
                refusals.put(file.toString(), refusal);
            }
        }
        for (Path gone : new ArrayList<>(seen.keySet())) {
            if (!files.contains(gone)) {
                seen.remove(gone);
                failures.loaded(gone.toString());
                removeFrom(gone);
            }
        }
        return refusals;
    }

    /** Adds a pipeline over the admin API: live first, then written as {@code <id>.pipeline.yaml}. */
    synchronized PipelineVersion add(String yaml) {
        PipelineDefinition definition = PipelineDefinition.parse(yaml);
        Path file = folder.resolve(definition.id() + SUFFIX);
        PipelineVersion existing = pipelines.find(definition.id());
        if (existing != null) {
            throw new PipelineRefused("a pipeline with id '" + definition.id() + "' exists (" + existing.source()
                    + "): delete it first, or edit its file");
        }
        if (Files.exists(file)) {
            throw new PipelineRefused("the file " + file + " exists already (with another pipeline, or one that was"
                    + " refused): edit or delete it first");
        }
        PipelineVersion version = pipelines.install(definition, file.toString());
        try {
            Files.createDirectories(folder);
            Path next = folder.resolve("." + file.getFileName() + ".tmp");
            Files.writeString(next, yaml);
            Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Seen state = stamp(file, null);
            seen.put(file, new Seen(state.modified(), state.size(), state.key(), yaml, null));
        } catch (IOException | RuntimeException e) {
            pipelines.remove(definition.id());
            throw new IllegalStateException("the pipeline could not be written to " + file + ": " + e, e);
        }
        return version;
    }

    /** Deletes the pipeline and its file; null when no such id runs, else the version taken out. */
    synchronized PipelineVersion delete(String id) {
        PipelineVersion version = pipelines.find(id);
        if (version == null) {
            return null;
        }
        Path file = Path.of(version.source());
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new IllegalStateException("the file " + file + " could not be deleted: " + e, e);
        }
        seen.remove(file);
        failures.loaded(file.toString());
        pipelines.remove(id);
        return version;
    }

    private String load(Path file, String text) {
        try {
            pipelines.install(PipelineDefinition.parse(text), file.toString());
            failures.loaded(file.toString());
            return null;
        } catch (PipelineRefused e) {
            failures.refused(new RouteReloadFailures.Failure(file.toString(), 0, e.getMessage()));
            LOG.warn("Pipeline file {} was not loaded{}: {}", file, pipelines.live().stream()
                    .anyMatch(v -> v.source().equals(file.toString())) ? ", its running version stays" : "",
                    e.getMessage());
            return e.getMessage();
        }
    }

    /** A file deleted (or renamed away): its pipeline goes, once its requests completed. */
    private void removeFrom(Path file) {
        for (PipelineVersion version : pipelines.live()) {
            if (version.source().equals(file.toString())) {
                pipelines.remove(version.id());
            }
        }
    }

    private List<Path> files() {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(f -> f.getFileName().toString().endsWith(SUFFIX)
                    && !f.getFileName().toString().startsWith(".") && Files.isRegularFile(f)).sorted().toList();
        } catch (IOException e) {
            LOG.warn("Pipelines folder {} could not be listed: {}", folder, e.toString());
            return List.of();
        }
    }

    private static Seen stamp(Path file, Seen before) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            return new Seen(attributes.lastModifiedTime(), attributes.size(), attributes.fileKey(), null,
                    before == null ? null : before.refusal());
        } catch (IOException e) {
            return null;
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            LOG.warn("Pipeline file {} could not be read: {}", file, e.toString());
            return null;
        }
    }
}
