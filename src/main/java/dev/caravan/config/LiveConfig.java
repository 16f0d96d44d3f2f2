package dev.caravan.config;

import java.nio.file.Files;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configuration in force. Watches gateway.yaml and swaps in an edit once it loads cleanly; a broken edit
 * is refused with an ERROR line naming the problem, and the previous configuration stays. In-flight requests
 * keep the snapshot they started with.
 */
public final class LiveConfig {

    private static final Logger LOG = LoggerFactory.getLogger(LiveConfig.class);

    private final GatewayConfigLoader loader;
    private final List<Consumer<ModelCatalog>> listeners = new CopyOnWriteArrayList<>();
    private volatile ModelCatalog catalog;
    private volatile FileTime lastSeen;
    private long timerId = -1;

    public LiveConfig(GatewayConfigLoader loader) {
        this.loader = loader;
        this.lastSeen = modified();
        this.catalog = new ModelCatalog(loader.load());
        LOG.info("Configuration loaded from {}: backends {}, models {}",
                Files.exists(loader.file()) ? loader.file() : "the built-in defaults (no " + loader.file() + ")",
                catalog.config().backends().keySet(), catalog.config().models().keySet());
    }

    public ModelCatalog catalog() {
        return catalog;
    }

    public GatewayConfig config() {
        return catalog.config();
    }

    /** Called with every configuration that replaces the one in force. */
    public void onChange(Consumer<ModelCatalog> listener) {
        listeners.add(listener);
    }

    /** Polls the file's modification time; a stat a second costs nothing and works on every file system. */
    public synchronized void watch(Vertx vertx, long periodMillis) {
        if (timerId < 0) {
            timerId = vertx.setPeriodic(periodMillis, id -> vertx.executeBlocking(() -> {
                reloadIfChanged();
                return null;
            }, false));
        }
    }

    public synchronized void stopWatching(Vertx vertx) {
        if (timerId >= 0) {
            vertx.cancelTimer(timerId);
            timerId = -1;
        }
    }

    /** Reloads when the file changed since the last look; returns whether a new configuration took effect. */
    public synchronized boolean reloadIfChanged() {
        FileTime now = modified();
        if (now == null ? lastSeen == null : now.equals(lastSeen)) {
            return false;
        }
        lastSeen = now;
        return reload();
    }

    public synchronized boolean reload() {
        ModelCatalog next;
        try {
            next = new ModelCatalog(loader.load());
        } catch (ConfigException e) {
            LOG.error("Configuration change refused, the previous configuration stays in force: {}", e.getMessage());
            return false;
        } catch (RuntimeException e) {
            LOG.error("Configuration change refused, the previous configuration stays in force: {}", e.toString());
            return false;
        }
        catalog = next;
        LOG.info("Configuration reloaded from {}: backends {}, models {}", loader.file(),
                next.config().backends().keySet(), next.config().models().keySet());
        for (Consumer<ModelCatalog> listener : listeners) {
            try {
                listener.accept(next);
            } catch (RuntimeException e) {
                LOG.error("Applying the new configuration failed in {}", listener, e);
            }
        }
        return true;
    }

    private FileTime modified() {
        try {
            return Files.exists(loader.file()) ? Files.getLastModifiedTime(loader.file()) : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
