package dev.caravan.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import org.apache.camel.CamelContext;
import org.apache.camel.ExtendedCamelContext;
import org.apache.camel.FailedToCreateRouteException;
import org.apache.camel.Route;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.camel.model.ProcessorDefinitionHelper;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.RouteDefinitionHelper;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.apache.camel.support.RouteWatcherReloadStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Route reload that is all or nothing. Camel's own reload removes the running routes of an edited file before it
 * builds the new ones, so a file that parses but cannot be built (a missing bean, an unclosed {@code ${}, an
 * unknown component or language) leaves its endpoints answering 503 until it is fixed. Here every route of the
 * edited file is first built, not started, against the running context (its beans, components, languages and
 * route configurations); only when all build does Camel's reload replace the running routes. A refused edit is
 * one WARN (file, line where known, reason), a standing failure in /health and a count in /metrics; the routes
 * that ran before the edit keep serving.
 */
public final class AllOrNothingRouteReload extends RouteWatcherReloadStrategy {

    private static final Logger LOG = LoggerFactory.getLogger(AllOrNothingRouteReload.class);

    private final RouteReloadFailures failures;
    private final Map<String, String> lastGood = new ConcurrentHashMap<>();

    public AllOrNothingRouteReload(String directory, String pattern, RouteReloadFailures failures) {
        super(directory, false);
        setPattern(pattern);
        // only the routes of the edited file are replaced; the lanes (made in Java) and other files stay
        setRemoveAllRoutes(false);
        this.failures = failures;
    }

    @Override
    protected void onRouteReload(Collection<Resource> resources, boolean removeEverything) {
        List<Resource> edited = resources == null ? List.of() : resources.stream().filter(r -> r != null).toList();
        for (Resource resource : edited) {
            if (!exists(resource)) {
                continue;
            }
            RouteBuildCheck.Refusal refusal = new RouteBuildCheck(getCamelContext()).check(resource);
            if (refusal != null) {
                refuse(resource, refusal);
                return;
            }
        }
        try {
            super.onRouteReload(resources, removeEverything);
        } catch (RuntimeException e) {
            // built, but did not start (a consumer that failed): Camel removed the running routes already, so the
            // last version of the file that loaded goes back in
            Resource resource = edited.isEmpty() ? null : edited.get(0);
            String restored = resource == null ? "" : restoreLastGood(resource);
            refuse(resource, new RouteBuildCheck.Refusal(0, RouteBuildCheck.reason(e) + restored));
            return;
        }
        edited.forEach(r -> {
            failures.loaded(fileName(r));
            remember(r);
        });
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        // the versions running now: what a reload that fails to start puts back
        Path folder = Path.of(getFolder());
        if (Files.isDirectory(folder)) {
            try (Stream<Path> files = Files.list(folder)) {
                files.filter(f -> getFileFilter() == null || getFileFilter().accept(f.toFile()))
                        .forEach(f -> {
                            try {
                                lastGood.put(key(f.toString()), Files.readString(f));
                            } catch (IOException e) {
                                LOG.debug("Route file {} not readable now: {}", f, e.toString());
                            }
                        });
            }
        }
    }

    private void remember(Resource resource) {
        try {
            lastGood.put(key(fileName(resource)), Files.readString(Path.of(fileName(resource))));
        } catch (IOException | RuntimeException e) {
            LOG.debug("Route file {} not readable now: {}", fileName(resource), e.toString());
        }
    }

    private String restoreLastGood(Resource resource) {
        String content = lastGood.get(key(fileName(resource)));
        if (content == null) {
            return "; no earlier version to restore";
        }
        try {
            CamelContext camel = getCamelContext();
            Set<String> restored = PluginHelper.getRoutesLoader(camel)
                    .updateRoutes(List.of(ResourceHelper.fromString(resource.getLocation(), content)));
            // a route only the refused version had (the one that failed, say) goes
            for (Route route : List.copyOf(camel.getRoutes())) {
                if (route.getSourceResource() != null && !restored.contains(route.getRouteId())
                        && key(fileName(route.getSourceResource())).equals(key(fileName(resource)))) {
                    camel.getRouteController().stopRoute(route.getRouteId());
                    camel.removeRoute(route.getRouteId());
                }
            }
            return "; the version that ran before was restored";
        } catch (Exception e) {
            return "; the version that ran before could not be restored either: " + RouteBuildCheck.reason(e);
        }
    }

    private void refuse(Resource resource, RouteBuildCheck.Refusal refusal) {
        String file = resource == null ? "(routes)" : fileName(resource);
        if (failures.refused(new RouteReloadFailures.Failure(file, refusal.line(), refusal.reason()))) {
            LOG.warn("Route file {}{} was not reloaded, its running routes stay in force: {}", file,
                    refusal.line() > 0 ? " near line " + refusal.line() : "", refusal.reason());
        }
    }

    private static boolean exists(Resource resource) {
        try {
            return Files.exists(Path.of(resource.getURI()));
        } catch (RuntimeException e) {
            return resource.exists();
        }
    }

    private static String key(String file) {
        return Path.of(file).toAbsolutePath().normalize().toString();
    }

    static String fileName(Resource resource) {
        String location = resource.getLocation();
        return location.startsWith("file:") ? location.substring("file:".length()) : location;
    }

    /** Builds, without starting, the routes of one file against a running context. */
    static final class RouteBuildCheck {

        record Refusal(int line, String reason) {
        }

        private final CamelContext camel;

        RouteBuildCheck(CamelContext camel) {
            this.camel = camel;
        }

        Refusal check(Resource resource) {
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

        static String reason(Throwable failure) {
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
}
