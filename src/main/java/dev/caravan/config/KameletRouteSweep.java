package dev.caravan.config;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.apache.camel.CamelContext;
import org.apache.camel.Channel;
import org.apache.camel.EndpointAware;
import org.apache.camel.Navigate;
import org.apache.camel.Processor;
import org.apache.camel.Route;
import org.apache.camel.component.kamelet.KameletEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes the routes kamelets made for steps no route uses any more. A {@code to: kamelet:x?...} step makes a route
 * from the kamelet's template when its endpoint starts, and Camel keeps that route when the route that called it is
 * replaced by a reload (or when a refused edit was built to be checked): each edit of a hook step's parameters would
 * leave one idle route (and its bean) behind. Run after every reload of a routes/ file.
 */
public final class KameletRouteSweep {

    private static final Logger LOG = LoggerFactory.getLogger(KameletRouteSweep.class);

    private KameletRouteSweep() {
    }

    public static void sweep(CamelContext camel) {
        List<Route> routes = List.copyOf(camel.getRoutes());
        Set<String> inUse = new HashSet<>();
        for (Route route : routes) {
            Set<String> called = new HashSet<>();
            collect(route.navigate(), called, new HashSet<>());
            // a kamelet's route ends in kamelet:sink?routeId=<itself>: that is no caller
            called.remove(route.getRouteId());
            inUse.addAll(called);
        }
        for (Route route : routes) {
            if (route.isCreatedByKamelet() && !inUse.contains(route.getRouteId())) {
                try {
                    camel.getRouteController().stopRoute(route.getRouteId());
                    camel.removeRoute(route.getRouteId());
                    LOG.debug("Kamelet route {} removed: no route calls it any more", route.getRouteId());
                } catch (Exception e) {
                    LOG.debug("Kamelet route {} not removed: {}", route.getRouteId(), e.toString());
                }
            }
        }
    }

    /** The kamelet route ids the processors under this node send to (a kamelet's own steps included). */
    private static void collect(Navigate<Processor> node, Set<String> inUse, Set<Object> seen) {
        if (node == null || !node.hasNext()) {
            return;
        }
        for (Processor processor : node.next()) {
            if (processor == null || !seen.add(processor)) {
                continue;
            }
            if (processor instanceof EndpointAware aware && aware.getEndpoint() instanceof KameletEndpoint kamelet) {
                inUse.add(kamelet.getRouteId());
            }
            if (processor instanceof Navigate<?> child) {
                collect(navigate(child), inUse, seen);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Navigate<Processor> navigate(Navigate<?> node) {
        return (Navigate<Processor>) node;
    }
}
