package dev.caravan.pipelines;

import java.util.ArrayList;
import java.util.List;

import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;
import org.apache.camel.support.SynchronizationAdapter;

/**
 * Pre-hook step "pipeline-inlets" (bean pipelineInlets): picks the filters that run for the request's model, in
 * their order (priority, lower first), runs their inlets and records each filter it reached on the exchange
 * ({@link #FILTERS}), so the outlets run for those filters and the same versions. The versions are held until the
 * exchange completes, so none of their routes goes while the request may still need them. With no filter at all
 * it costs one volatile read.
 */
public final class FilterInlets extends AsyncProcessorSupport {

    /** Exchange property: the filter versions (a List of PipelineVersion) the request reached, in inlet order. */
    public static final String FILTERS = "CaravanPipelines";

    /**
     * The task enqueue runs the pre-hooks only to check the request (400, 404, 429 at once); the task runs them again
     * when it runs, with the post-hooks after: that is where its filters run, once.
     */
    private static final String TASK_ENQUEUE = "api-tasks-enqueue";

    private final Pipelines pipelines;

    FilterInlets(Pipelines pipelines) {
        this.pipelines = pipelines;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        if (pipelines.snapshot().filters().isEmpty() || exchange.getProperty(FILTERS) != null
                || TASK_ENQUEUE.equals(exchange.getFromRouteId())) {
            callback.done(true);
            return true;
        }
        List<PipelineVersion> filters = take(RequestModel.of(exchange));
        if (filters.isEmpty()) {
            callback.done(true);
            return true;
        }
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                filters.forEach(PipelineVersion::release);
            }
        });
        // the filters this request reached, in order: their outlets run, and only theirs (an inlet that rejects
        // or fails ends the run, and the filters after it never saw the request)
        List<PipelineVersion> reached = new ArrayList<>(filters.size());
        exchange.setProperty(FILTERS, reached);
        return SequentialCalls.run(exchange, filters, PipelineVersion::inlet, reached::add, callback);
    }

    /**
     * The live filters for the model, each taken for this request; a version retired meanwhile means: look again.
     * A request no filter runs for allocates nothing.
     */
    private List<PipelineVersion> take(String model) {
        while (true) {
            List<PipelineVersion> taken = null;
            boolean all = true;
            for (PipelineVersion filter : pipelines.snapshot().filters()) {
                if (!filter.runsFor(model)) {
                    continue;
                }
                if (!filter.tryUse()) {
                    all = false;
                    break;
                }
                if (taken == null) {
                    taken = new ArrayList<>(4);
                }
                taken.add(filter);
            }
            if (all) {
                return taken == null ? List.of() : List.copyOf(taken);
            }
            if (taken != null) {
                taken.forEach(PipelineVersion::release);
            }
        }
    }
}
