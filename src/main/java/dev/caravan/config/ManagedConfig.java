package dev.caravan.config;

import org.apache.camel.api.management.ManagedAttribute;
import org.apache.camel.api.management.ManagedOperation;
import org.apache.camel.api.management.ManagedResource;

/**
 * The configuration in force in JMX ({@code org.apache.camel:context=…,type=gateway,name="config"}), and
 * reloadConfig(): gateway.yaml read now, by the same path as the file watcher ({@link LiveConfig#reload}), so a
 * broken file is refused and the previous configuration stays. A reload re-applies the file's lane limits,
 * replacing any set through JMX.
 */
@ManagedResource(description = "Caravan configuration (gateway.yaml)")
public final class ManagedConfig {

    public static final String TYPE = "gateway";
    public static final String NAME = "config";

    private final LiveConfig config;

    public ManagedConfig(LiveConfig config) {
        this.config = config;
    }

    @ManagedAttribute(description = "Path of gateway.yaml")
    public String getConfigFile() {
        return config.file().toAbsolutePath().toString();
    }

    @ManagedAttribute(description = "Backends configured now")
    public String[] getBackends() {
        return config.config().backends().keySet().toArray(String[]::new);
    }

    @ManagedAttribute(description = "Models configured now")
    public String[] getModels() {
        return config.config().models().keySet().toArray(String[]::new);
    }

    @ManagedAttribute(description = "Why the last reload was refused (empty once one took effect)")
    public String getLastRefusal() {
        String refusal = config.lastRefusal();
        return refusal == null ? "" : refusal;
    }

    @ManagedOperation(description = "Reads gateway.yaml now, as the file watcher does: a clean file takes effect "
            + "(its lane limits replace any set through JMX), a broken one is refused and the previous stays")
    public String reloadConfig() {
        if (config.reloadNow()) {
            return "Reloaded " + config.file() + ": backends " + config.config().backends().keySet() + ", models "
                    + config.config().models().keySet();
        }
        String refusal = config.lastRefusal();
        throw new IllegalStateException("Refused, the previous configuration stays in force: "
                + (refusal == null ? "see the log" : refusal));
    }
}
