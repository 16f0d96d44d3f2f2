package dev.caravan.pipelines;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.caravan.config.KeyConfig;
import org.apache.camel.AsyncProducer;

/**
 * One loaded version of a pipeline: its definition, the routes built from it ({@code pipeline-<id>-v<n>-inlet},
 * {@code -outlet}, {@code -pipe}) and the requests that use it. A request takes the versions it starts with
 * ({@link #tryUse}) and gives them back when it completes; a version replaced by an edit or deleted is retired, and
 * its routes go once its last request is done, so every request ends on the version it started with.
 */
public final class PipelineVersion {

    /** Which of a version's routes: the suffix of its route id. */
    enum Part {
        INLET, OUTLET, PIPE;

        String suffix() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final PipelineDefinition definition;
    private final long number;
    private final String source;
    private final AtomicInteger users = new AtomicInteger();
    private final AtomicBoolean gone = new AtomicBoolean();
    private volatile boolean retired;
    private volatile Runnable onDrained = () -> { };
    private AsyncProducer inlet;
    private AsyncProducer outlet;
    private AsyncProducer pipe;

    PipelineVersion(PipelineDefinition definition, long number, String source) {
        this.definition = definition;
        this.number = number;
        this.source = source;
    }

    public PipelineDefinition definition() {
        return definition;
    }

    public String id() {
        return definition.id();
    }

    public long number() {
        return number;
    }

    /** The file the pipeline was read from (or written to, when added over the admin API). */
    public String source() {
        return source;
    }

    /** Requests that started on this version and have not completed yet. */
    public int users() {
        return users.get();
    }

    public boolean retired() {
        return retired;
    }

    /** Does this filter run for the model id the client sent? */
    boolean runsFor(String model) {
        for (String glob : definition.models()) {
            if (KeyConfig.matches(glob, model == null ? "" : model)) {
                return true;
            }
        }
        return false;
    }

    String routeId(Part part) {
        return "pipeline-" + definition.id() + "-v" + number + "-" + part.suffix();
    }

    String uri(Part part) {
        return "direct:" + routeId(part);
    }

    List<Part> parts() {
        if (!definition.isFilter()) {
            return List.of(Part.PIPE);
        }
        if (definition.inlet() != null && definition.outlet() != null) {
            return List.of(Part.INLET, Part.OUTLET);
        }
        return List.of(definition.inlet() != null ? Part.INLET : Part.OUTLET);
    }

    void producers(AsyncProducer inlet, AsyncProducer outlet, AsyncProducer pipe) {
        this.inlet = inlet;
        this.outlet = outlet;
        this.pipe = pipe;
    }

    AsyncProducer inlet() {
        return inlet;
    }

    AsyncProducer outlet() {
        return outlet;
    }

    AsyncProducer pipe() {
        return pipe;
    }

    /**
     * Takes this version for a request; false when it was retired meanwhile (the caller looks again and finds its
     * successor). Counting up before looking at {@code retired}, as {@link #retire} sets it before looking at the
     * count, means one of the two always sees the other.
     */
    boolean tryUse() {
        users.incrementAndGet();
        if (retired) {
            release();
            return false;
        }
        return true;
    }

    void release() {
        if (users.decrementAndGet() == 0 && retired) {
            drained();
        }
    }

    /** No new request takes it; its routes go (onDrained) once the requests that use it completed. */
    void retire(Runnable onDrained) {
        this.onDrained = onDrained;
        retired = true;
        if (users.get() == 0) {
            drained();
        }
    }

    private void drained() {
        if (gone.compareAndSet(false, true)) {
            onDrained.run();
        }
    }

    @Override
    public String toString() {
        return definition.id() + "-v" + number;
    }
}
