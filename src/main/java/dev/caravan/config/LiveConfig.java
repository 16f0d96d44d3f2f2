package dev.caravan.config;

import java.nio.file.Files;
import java.nio.file.attribute.BasicFileAttributes;
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
 * <p>
 * It fails closed: a file deleted, moved away or emptied while running, and an edit that would leave no key at all
 * (auth off), keep the last good configuration (keys included) with a WARN. Turning auth off takes a restart.
 */
public final class LiveConfig {

    private static final Logger LOG = LoggerFactory.getLogger(LiveConfig.class);

    private final GatewayConfigLoader loader;
    private final List<Consumer<ModelCatalog>> listeners = new CopyOnWriteArrayList<>();
    private volatile ModelCatalog catalog;
    private volatile Stamp lastSeen;
    /** Whether the configuration in force came from the file (not the built-in default). */
    private boolean fromFile;
    private long timerId = -1;
    /** API_KEYS_JSON holds keys: an edit without keys in the file does not turn auth off, so it is no threat. */
    private volatile boolean keysOutsideTheFile;
    /** Why the last reload was refused; null once one succeeded. */
    private volatile String lastRefusal;

    public LiveConfig(GatewayConfigLoader loader) {
        this.loader = loader;
        this.lastSeen = modified();
        this.fromFile = !loader.absentOrEmpty();
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

    /** Whether keys from outside gateway.yaml (API_KEYS_JSON) are in force, whatever the file holds. */
    public void keysOutsideTheFile(boolean present) {
        keysOutsideTheFile = present;
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
        Stamp now = modified();
        if (java.util.Objects.equals(now, lastSeen)) {
            return false;
        }
        lastSeen = now;
        return reload();
    }

    /** An operator's reload (JMX): reads the file now, whether or not it changed; the watcher will not read it again. */
    public synchronized boolean reloadNow() {
        lastSeen = modified();
        return reload();
    }

    /** Why the last reload was refused, or null when the last one took effect (or none was refused). */
    public String lastRefusal() {
        return lastRefusal;
    }

    public java.nio.file.Path file() {
        return loader.file();
    }

    public synchronized boolean reload() {
        if (fromFile && loader.absentOrEmpty()) {
            lastRefusal = loader.file() + " is " + (Files.exists(loader.file()) ? "empty" : "gone")
                    + ": the last good configuration stays in force";
            LOG.warn("{} is {}: the last good configuration stays in force (backends {}, {} keys)", loader.file(),
                    Files.exists(loader.file()) ? "empty" : "gone", catalog.config().backends().keySet(),
                    catalog.config().keys().size());
            return false;
        }
        ModelCatalog next;
        try {
            next = new ModelCatalog(loader.load());
        } catch (ConfigException e) {
            lastRefusal = e.getMessage();
            LOG.error("Configuration change refused, the previous configuration stays in force: {}", e.getMessage());
            return false;
        } catch (RuntimeException e) {
            lastRefusal = e.toString();
            LOG.error("Configuration change refused, the previous configuration stays in force: {}", e.toString());
            return false;
        }
        if (next.config().keys().isEmpty() && !catalog.config().keys().isEmpty() && !keysOutsideTheFile) {
            lastRefusal = loader.file() + " holds no API key, which would turn auth off";
            LOG.warn("Configuration change refused: {} holds no API key, which would turn auth off; the last good "
                    + "configuration stays in force (restart the gateway to run without keys)", loader.file());
            return false;
        }
        catalog = next;
        lastRefusal = null;
        fromFile = Files.isRegularFile(loader.file());
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

    /**
     * Modification time, size and file key (device and inode): an editor that truncates, then writes within one clock
     * tick, still shows by its size; one that saves by rename, with the same size within the tick, by its new inode.
     */
    private record Stamp(FileTime modified, long size, Object key) {
    }

    private Stamp modified() {
        try {
            if (!Files.exists(loader.file())) {
                return null;
            }
            BasicFileAttributes attributes = Files.readAttributes(loader.file(), BasicFileAttributes.class);
            return new Stamp(attributes.lastModifiedTime(), attributes.size(), attributes.fileKey());
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
