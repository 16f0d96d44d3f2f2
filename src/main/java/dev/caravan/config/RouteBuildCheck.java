package dev.caravan.config;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

import org.apache.camel.CamelContext;
import org.apache.camel.ExtendedCamelContext;
import org.apache.camel.FailedToCreateRouteException;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.camel.model.ProcessorDefinitionHelper;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.RouteDefinitionHelper;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;

/**
 * Builds, without starting, the routes of one route file against the running context: what Camel does to add a
 * route up to the point where it would start it, so that a missing bean, a bad expression or an unknown component
 * or language shows here, before a reload removes anything. The built routes are thrown away; their endpoints stay
 * in the context's registry, as the reload would create them anyway.
 */
public final class RouteBuildCheck {

    public record Refusal(int line, String reason) {
    }

    private final CamelContext camel;

    public RouteBuildCheck(CamelContext camel) {
        this.camel = camel;
    }

    public Refusal check(Resource resource) {
        RouteDefinition current = null;
        try {
            Collection<RoutesBuilder> builders = PluginHelper.getRoutesLoader(camel).findRoutesBuilders(resource);
            for (RoutesBuilder builder : builders) {
                if (!(builder instanceof RouteBuilder routes)) {
                    continue;
                }
                // a fresh parse of the file: these definitions are built here and thrown away
                Set<String> ids = new HashSet<>();
                for (RouteDefinition route : routes.configureRoutes(camel).getRoutes()) {
                    current = route;
                    if (route.getId() != null && !ids.add(route.getId())) {
                        return new Refusal(Math.max(route.getLineNumber(), 0),
                                "route id " + route.getId() + " is used twice in this file");
                    }
                    build(route);
                }
            }
            return null;
        } catch (Exception | LinkageError e) {
            return refusal(current, e);
        }
    }

    /** What the context does to add a route, up to and without starting it (DefaultCamelContext, 4.18). */
    private void build(RouteDefinition route) throws Exception {
        if (Boolean.TRUE.equals(route.isTemplate())) {
            return;
        }
        RouteDefinitionHelper.initParent(route);
        RouteDefinitionHelper.prepareRoute(camel, route);
        route.markPrepared();
        RouteDefinitionHelper.forceAssignIds(camel, route.getInput());
        RouteDefinitionHelper.forceAssignIds(camel, route);
        ExtendedCamelContext extension = camel.getCamelContextExtension();
        extension.createRoute(route.getRouteId());
        try {
            ((ModelCamelContext) camel).getModelReifierFactory().createRoute(camel, route);
        } finally {
            extension.createRoute(null);
        }
    }

    /** The failing step and its line, when Camel names it ("at: >>> step <<<"), else the route's line. */
    private static Refusal refusal(RouteDefinition route, Throwable failure) {
        String step = null;
        for (Throwable t = failure; t != null && step == null; t = t.getCause()) {
            if (t instanceof FailedToCreateRouteException && t.getMessage() != null) {
                int start = t.getMessage().indexOf(">>> ");
                int end = t.getMessage().indexOf(" <<<", start + 1);
                step = start >= 0 && end > start ? t.getMessage().substring(start + 4, end) : null;
            }
        }
        if (route == null) {
            return new Refusal(0, reason(failure));
        }
        int line = route.getLineNumber();
        if (step != null) {
            for (ProcessorDefinition<?> node : ProcessorDefinitionHelper.filterTypeInOutputs(route.getOutputs(),
                    ProcessorDefinition.class)) {
                if (step.equals(node.toString()) && node.getLineNumber() > 0) {
                    line = node.getLineNumber();
                    break;
                }
            }
        }
        String where = "route " + route.getRouteId() + (step == null ? "" : ", step " + step);
        return new Refusal(Math.max(line, 0), where + ": " + reason(failure));
    }

    public static String reason(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        int newline = message.indexOf('\n');
        message = newline < 0 ? message : message.substring(0, newline);
        return message.length() > 300 ? message.substring(0, 300) + "..." : message;
    }
}
