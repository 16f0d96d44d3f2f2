package dev.caravan.pipelines;

import java.util.ArrayList;
import java.util.List;

import org.apache.camel.AsyncCallback;
import org.apache.camel.AsyncProducer;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * Post-hook step "pipeline-outlets" (bean pipelineOutlets): runs the outlets of the filter versions the request's
 * inlet step recorded ({@link FilterInlets#FILTERS}), in the same order, on the reply (or, on failure, the error
 * with the error on the exchange). A request that failed before its inlet step ran no filter, so none runs here.
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
        List<AsyncProducer> outlets = new ArrayList<>(filters.size());
        for (Object filter : filters) {
            AsyncProducer outlet = ((PipelineVersion) filter).outlet();
            if (outlet != null) {
                outlets.add(outlet);
            }
        }
        return SequentialCalls.run(exchange, outlets, callback);
    }
}
