package dev.caravan.resilience;

import java.util.Map;

import org.apache.camel.api.management.ManagedAttribute;
import org.apache.camel.api.management.ManagedOperation;
import org.apache.camel.api.management.ManagedResource;

/**
 * The circuit breakers of one backend in JMX ({@code org.apache.camel:context=…,type=circuits,name="<backend>"}):
 * their state, and an operator's force open / force closed / reset, for the whole backend or one upstream model
 * (gateway.circuit.scope=model). Runtime only: a restart, or a gateway.yaml edit of the backend's url, type or
 * circuit-breaker settings, starts its circuits afresh.
 */
@ManagedResource(description = "Caravan circuit breakers of one backend")
public final class ManagedCircuits {

    static final String TYPE = "circuits";

    private final CircuitBreakers circuits;
    private final String backend;

    ManagedCircuits(CircuitBreakers circuits, String backend) {
        this.circuits = circuits;
        this.backend = backend;
    }

    @ManagedAttribute(description = "Backend the circuits guard")
    public String getBackend() {
        return backend;
    }

    @ManagedAttribute(description = "The backend's state, the worst of its circuits: closed, half_open, open, forced_open")
    public String getState() {
        return circuits.state(backend);
    }

    @ManagedAttribute(description = "model: a circuit per backend and upstream model; backend: one per backend")
    public String getScope() {
        return circuits.perModel() ? "model" : "backend";
    }

    @ManagedAttribute(description = "State of each circuit made so far, by upstream model (\"\": the backend as a whole)")
    public Map<String, String> getCircuitStates() {
        return circuits.states(backend);
    }

    @ManagedOperation(description = "Forces every circuit of the backend open (those made later too): its calls get "
            + "503 circuit_open until forceClosed or reset; returns the backend's state")
    public String forceOpen() {
        return circuits.forceOpen(backend, null);
    }

    @ManagedOperation(description = "Closes every circuit of the backend: calls flow again; returns the backend's state")
    public String forceClosed() {
        return circuits.forceClosed(backend, null);
    }

    @ManagedOperation(description = "Resets every circuit of the backend to closed with an empty history; returns "
            + "the backend's state")
    public String reset() {
        return circuits.reset(backend, null);
    }

    @ManagedOperation(description = "Forces the circuit of one upstream model of the backend open; returns the "
            + "backend's state")
    public String forceOpenModel(String upstreamModel) {
        return circuits.forceOpen(backend, required(upstreamModel));
    }

    @ManagedOperation(description = "Closes the circuit of one upstream model of the backend; returns the backend's state")
    public String forceClosedModel(String upstreamModel) {
        return circuits.forceClosed(backend, required(upstreamModel));
    }

    @ManagedOperation(description = "Resets the circuit of one upstream model of the backend; returns the backend's state")
    public String resetModel(String upstreamModel) {
        return circuits.reset(backend, required(upstreamModel));
    }

    private static String required(String model) {
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("Name the upstream model (the backend as a whole: forceOpen, forceClosed, reset)");
        }
        return model;
    }
}
