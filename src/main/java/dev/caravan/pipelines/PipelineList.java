package dev.caravan.pipelines;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * GET /pipelines (admin): every live pipeline (filters in the order they run, then pipes) with state "running",
 * retired versions requests still run on ("draining"), and files whose last version was refused ("refused", with
 * the reason; a running version of the same pipeline stays listed as running).
 */
final class PipelineList implements Processor {

    private final Pipelines pipelines;
    private final PipelineFolder folder;

    PipelineList(Pipelines pipelines, PipelineFolder folder) {
        this.pipelines = pipelines;
        this.folder = folder;
    }

    @Override
    public void process(Exchange exchange) {
        ObjectNode list = Json.object();
        list.put("object", "list");
        list.put("folder", folder.folder().toString());
        ArrayNode data = list.putArray("data");
        pipelines.live().forEach(v -> data.add(PipelineView.of(v, "running")));
        pipelines.draining().forEach(v -> data.add(PipelineView.of(v, "draining")));
        folder.refused().forEach((file, reason) -> data.add(PipelineView.refused(file, reason)));
        exchange.getMessage().setBody(list);
    }
}
