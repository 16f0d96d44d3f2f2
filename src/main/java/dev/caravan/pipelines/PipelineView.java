package dev.caravan.pipelines;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;

/** A pipeline as the admin API shows it: GET /pipelines entries and the answer of POST /pipelines/add. */
final class PipelineView {

    private PipelineView() {
    }

    static ObjectNode of(PipelineVersion version, String state) {
        PipelineDefinition definition = version.definition();
        ObjectNode view = Json.object();
        view.put("id", version.id());
        view.put("object", "pipeline");
        view.put("type", definition.type().label());
        view.put("name", definition.name());
        if (definition.description() != null) {
            view.put("description", definition.description());
        }
        if (definition.isFilter()) {
            ArrayNode models = view.putArray("models");
            definition.models().forEach(models::add);
            view.put("priority", definition.priority());
        }
        view.put("state", state);
        view.put("version", version.number());
        view.put("in_flight", version.users());
        view.put("source", version.source());
        ArrayNode routes = view.putArray("routes");
        version.parts().forEach(part -> routes.add(version.routeId(part)));
        return view;
    }

    static ObjectNode refused(String source, String reason) {
        ObjectNode view = Json.object();
        view.putNull("id");
        view.put("object", "pipeline");
        view.put("state", "refused");
        view.put("source", source);
        view.put("error", reason);
        return view;
    }
}
