package dev.caravan.pipelines;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;
import io.vertx.core.Vertx;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * POST /pipelines/reload (admin): every file of the folder read and built again (each a new version; requests on
 * the old ones finish there), pipelines whose file is gone removed. 200 with what runs now and what was refused
 * ({@code {"object":"pipeline.reload","data":[...],"refused":[{"source","error"}]}}).
 */
final class PipelineReload extends AsyncProcessorSupport {

    private final Vertx vertx;
    private final Pipelines pipelines;
    private final PipelineFolder folder;

    PipelineReload(Vertx vertx, Pipelines pipelines, PipelineFolder folder) {
        this.vertx = vertx;
        this.pipelines = pipelines;
        this.folder = folder;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        return OffTheLoop.run(vertx, exchange, callback, () -> {
            var refusals = folder.scan(true);
            ObjectNode body = Json.object();
            body.put("object", "pipeline.reload");
            ArrayNode data = body.putArray("data");
            pipelines.live().forEach(v -> data.add(PipelineView.of(v, "running")));
            ArrayNode refused = body.putArray("refused");
            refusals.forEach((file, reason) -> refused.add(PipelineView.refused(file, reason)));
            return body;
        });
    }
}
