package dev.caravan.pipelines;

import java.util.ArrayList;
import java.util.List;

import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * Post-hook step "pipeline-outlets" (bean pipelineOutlets): runs the outlets of the filter versions the request's
 * inlets reached ({@link FilterInlets#FILTERS}), in reverse order, on the reply (or, on failure, the error with the
 * error on the exchange). Reverse, as middleware unwinds: the filter that saw the request first sees the reply last,
 * so a filter of low priority wraps all the others (a redaction filter redacts what the others' outlets added).
 * A request refused before the inlet step reached no filter, so none runs here.
 */
public final class FilterOutlets extends AsyncProcessorSupport {

    private static final String RAN = "CaravanPipelineOutletsRan";

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        Object recorded = exchange.getProperty(FilterInlets.FILTERS);
        if (!(recorded instanceof List<?> filters) || exchange.getProperty(RAN) != null) {
            callback.done(true);
            return true;
        }
        exchange.setProperty(RAN, true);
        List<PipelineVersion> reversed = new ArrayList<>(filters.size());
        for (int i = filters.size() - 1; i >= 0; i--) {
            reversed.add((PipelineVersion) filters.get(i));
        }
        return SequentialCalls.run(exchange, reversed, PipelineVersion::outlet, version -> { }, callback);
    }
}
