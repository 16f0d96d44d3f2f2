package dev.caravan.pipelines;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.caravan.config.KameletRouteSweep;
import dev.caravan.config.RouteBuildCheck;
import dev.caravan.openai.Json;
import org.apache.camel.AsyncProducer;
import org.apache.camel.CamelContext;
import org.apache.camel.Endpoint;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.apache.camel.support.service.ServiceHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pipeline version as Camel routes: Camel YAML DSL text made from its steps, checked by building it against the
 * running context ({@link RouteBuildCheck}: beans, components, languages), then loaded by Camel's RoutesLoader like
 * any file of routes/, so the routes show in JMX and the dev console as {@code pipeline-<id>-v<n>-<part>}. Each
 * route has no error handler of its own: a failing step fails the step that called it (the pre-hooks' inlet step,
 * the router's pipe step), exactly as a failing Java step there would.
 */
final class PipelineRoutes {

    private static final Logger LOG = LoggerFactory.getLogger(PipelineRoutes.class);
    private static final YAMLMapper YAML = new YAMLMapper();

    private final CamelContext camel;

    PipelineRoutes(CamelContext camel) {
        this.camel = camel;
    }

    /** Builds and starts the version's routes, or refuses with the reason; nothing of it stays when refused. */
    void add(PipelineVersion version) {
        // the location names the loader (its extension after the first dot: "yaml") and what JMX shows as source
        Resource resource = ResourceHelper.fromString("pipeline-" + version + ".yaml", yaml(version));
        RouteBuildCheck.Refusal refusal = new RouteBuildCheck(camel).check(resource);
        if (refusal != null) {
            // the check built the steps, kamelets included: what their endpoints made goes with them
            KameletRouteSweep.sweep(camel);
            throw new PipelineRefused(withoutVersion(version, refusal.reason()));
        }
        try {
            PluginHelper.getRoutesLoader(camel).loadRoutes(resource);
            version.producers(producer(version, PipelineVersion.Part.INLET),
                    producer(version, PipelineVersion.Part.OUTLET), producer(version, PipelineVersion.Part.PIPE));
        } catch (Exception e) {
            remove(version);
            throw new PipelineRefused(withoutVersion(version, RouteBuildCheck.reason(e)));
        }
    }

    /** Stops and removes the version's routes and endpoints (once no request uses them). */
    void remove(PipelineVersion version) {
        stop(version.inlet());
        stop(version.outlet());
        stop(version.pipe());
        for (PipelineVersion.Part part : version.parts()) {
            String id = version.routeId(part);
            try {
                if (camel.getRoute(id) != null) {
                    camel.getRouteController().stopRoute(id);
                    camel.removeRoute(id);
                }
                camel.removeEndpoints(version.uri(part));
            } catch (Exception e) {
                LOG.warn("Route {} of a retired pipeline version could not be removed: {}", id, e.toString());
            }
        }
        // the routes its kamelet steps made, unless another route still calls them
        KameletRouteSweep.sweep(camel);
    }

    /** The routes' text: one {@code direct:} route per part, the pipeline's steps as its steps. */
    static String yaml(PipelineVersion version) {
        PipelineDefinition definition = version.definition();
        ArrayNode routes = Json.MAPPER.createArrayNode();
        for (PipelineVersion.Part part : version.parts()) {
            ArrayNode steps = switch (part) {
                case INLET -> definition.inlet();
                case OUTLET -> definition.outlet();
                case PIPE -> definition.steps();
            };
            ObjectNode route = routes.addObject().putObject("route");
            route.put("id", version.routeId(part));
            route.put("description", definition.type().label() + " " + definition.id() + " (" + part.suffix()
                    + ", version " + version.number() + ", " + version.source() + ")");
            route.putObject("errorHandler").putObject("noErrorHandler");
            ObjectNode from = route.putObject("from");
            from.put("uri", version.uri(part));
            from.set("steps", steps.deepCopy());
        }
        try {
            return YAML.writeValueAsString(routes);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("pipeline routes could not be written as YAML", e);
        }
    }

    private AsyncProducer producer(PipelineVersion version, PipelineVersion.Part part) throws Exception {
        if (!version.parts().contains(part)) {
            return null;
        }
        Endpoint endpoint = camel.getEndpoint(version.uri(part));
        AsyncProducer producer = endpoint.createAsyncProducer();
        ServiceHelper.startService(producer);
        return producer;
    }

    private static void stop(AsyncProducer producer) {
        if (producer != null) {
            ServiceHelper.stopAndShutdownService(producer);
        }
    }

    /** A refusal in the operator's words: the step, not the generated route id with its version. */
    private static String withoutVersion(PipelineVersion version, String reason) {
        String text = reason;
        for (PipelineVersion.Part part : version.parts()) {
            text = text.replace("route " + version.routeId(part), part.suffix());
        }
        return "the steps do not build: " + text;
    }
}
