package dev.caravan.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import org.apache.camel.CamelContext;
import org.apache.camel.Route;
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
                // the check built the file's kamelet steps, which made routes of their own
                KameletRouteSweep.sweep(getCamelContext());
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
        // the kamelet steps of the version replaced leave routes of their own behind
        KameletRouteSweep.sweep(getCamelContext());
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
}
