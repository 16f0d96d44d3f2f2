package dev.caravan.pipelines;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipelines in force: one live version per id, filters in the order their inlets run (priority, lower first,
 * then id; outlets unwind in reverse), pipes by id. Requests read an immutable snapshot, so the hot path takes no lock; changes (files, admin API) are
 * serialized here, each one a new version whose routes are built before it goes live. A replaced or deleted
 * version is retired and its routes removed once the last request that started on it completed.
 */
public final class Pipelines {

    private static final Logger LOG = LoggerFactory.getLogger(Pipelines.class);
    private static final Comparator<PipelineVersion> RUN_ORDER = Comparator
            .comparingInt((PipelineVersion v) -> v.definition().priority()).thenComparing(PipelineVersion::id);

    /** What requests read: immutable, swapped whole. */
    record Snapshot(Map<String, PipelineVersion> byId, List<PipelineVersion> filters,
            Map<String, PipelineVersion> pipes) {

        static final Snapshot EMPTY = new Snapshot(Map.of(), List.of(), Map.of());
    }

    private final PipelineRoutes routes;
    private final Vertx vertx;
    /** Ids gateway.yaml serves as models: a pipe may not take one (its model would be unreachable). */
    private final Predicate<String> configuredModel;
    private final Map<String, Long> lastNumber = new HashMap<>();
    private final Set<PipelineVersion> draining = ConcurrentHashMap.newKeySet();
    private volatile Snapshot snapshot = Snapshot.EMPTY;

    Pipelines(PipelineRoutes routes, Vertx vertx, Predicate<String> configuredModel) {
        this.routes = routes;
        this.vertx = vertx;
        this.configuredModel = configuredModel;
    }

    Snapshot snapshot() {
        return snapshot;
    }

    /** The pipe of this model id, or null: the router hands such a model to the pipe's route. */
    public PipelineVersion pipe(String model) {
        return model == null ? null : snapshot.pipes().get(model);
    }

    /** Ids of the pipes, for /v1/models. */
    public List<String> pipeIds() {
        return List.copyOf(snapshot.pipes().keySet());
    }

    public PipelineVersion find(String id) {
        return snapshot.byId().get(id);
    }

    /** Live versions, filters in run order, then pipes. */
    public List<PipelineVersion> live() {
        List<PipelineVersion> all = new ArrayList<>(snapshot.filters());
        all.addAll(snapshot.pipes().values());
        return all;
    }

    /** Retired versions some requests still run on. */
    public List<PipelineVersion> draining() {
        return List.copyOf(draining);
    }

    /**
     * Puts a pipeline live from {@code source}, replacing the version from the same source; refused (and nothing
     * changed) when another source holds its id, a pipe would take a configured model's id, or its steps do not
     * build.
     */
    synchronized PipelineVersion install(PipelineDefinition definition, String source) {
        PipelineVersion before = snapshot.byId().get(definition.id());
        if (before != null && !before.source().equals(source)) {
            throw new PipelineRefused("id '" + definition.id() + "' is already taken by " + before.source());
        }
        if (!definition.isFilter() && configuredModel.test(definition.id())) {
            throw new PipelineRefused("id '" + definition.id() + "' is a model of gateway.yaml; a pipe needs an id "
                    + "of its own");
        }
        long number = lastNumber.merge(definition.id(), 1L, Long::sum);
        PipelineVersion version = new PipelineVersion(definition, number, source);
        routes.add(version);
        Map<String, PipelineVersion> byId = new LinkedHashMap<>(snapshot.byId());
        byId.put(version.id(), version);
        // a file edited to another id: the pipeline it held before goes
        List<PipelineVersion> renamed = byId.values().stream()
                .filter(v -> v != version && v.source().equals(source)).toList();
        renamed.forEach(v -> byId.remove(v.id()));
        publish(byId);
        if (before != null) {
            retire(before);
        }
        renamed.forEach(this::retire);
        LOG.info("Pipeline {} ({}) is live as version {}{}", version.id(), definition.type().label(), number,
                before == null ? "" : "; version " + before.number() + " retires once its requests completed");
        return version;
    }

    /** Takes the pipeline out of service; its running requests finish on it. False when no such id runs. */
    synchronized boolean remove(String id) {
        PipelineVersion before = snapshot.byId().get(id);
        if (before == null) {
            return false;
        }
        Map<String, PipelineVersion> byId = new LinkedHashMap<>(snapshot.byId());
        byId.remove(id);
        publish(byId);
        retire(before);
        LOG.info("Pipeline {} removed; version {} retires once its requests completed", id, before.number());
        return true;
    }

    private void publish(Map<String, PipelineVersion> byId) {
        List<PipelineVersion> filters = new ArrayList<>();
        Map<String, PipelineVersion> pipes = new LinkedHashMap<>();
        for (PipelineVersion version : byId.values()) {
            if (version.definition().isFilter()) {
                filters.add(version);
            } else {
                pipes.put(version.id(), version);
            }
        }
        filters.sort(RUN_ORDER);
        snapshot = new Snapshot(Map.copyOf(byId), List.copyOf(filters), Map.copyOf(pipes));
    }

    private void retire(PipelineVersion version) {
        draining.add(version);
        // the last request may complete on an event loop: removing routes waits on Camel, so it runs on a worker;
        // under this lock, as its kamelet sweep must not run between an install's check and its load
        version.retire(() -> vertx.executeBlocking(() -> {
            synchronized (this) {
                routes.remove(version);
            }
            draining.remove(version);
            LOG.debug("Pipeline version {} drained and removed", version);
            return null;
        }, false));
    }
}
