package dev.caravan.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads gateway.yaml: env references resolved, unknown keys refused with file, line and key, references between
 * models and backends checked. Then adds what the environment declares ({@link EnvBackends}) and, when no file
 * exists, the built-in local backend.
 */
public final class GatewayConfigLoader {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayConfigLoader.class);
    private static final Pattern ENV_REF = Pattern.compile("\\$\\{env:([A-Za-z0-9_]+)(?::([^}]*))?}");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .setPropertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private final Path file;
    private final Defaults defaults;
    private final UnaryOperator<String> env;

    public GatewayConfigLoader(Path file, Defaults defaults, UnaryOperator<String> env) {
        this.file = file;
        this.defaults = defaults;
        this.env = env;
    }

    public Path file() {
        return file;
    }

    public GatewayConfig load() {
        GatewayConfig declared = Files.isRegularFile(file) ? parse(read()) : null;
        Map<String, BackendConfig> backends = new LinkedHashMap<>();
        Map<String, ModelConfig> models = new LinkedHashMap<>();
        if (declared == null) {
            backends.put(LocalModels.BACKEND, new BackendConfig("local", null, null, null, null, null, null));
            models.putAll(LocalModels.models());
        } else {
            backends.putAll(declared.backends());
            models.putAll(declared.models());
        }
        new EnvBackends(env).addTo(backends, models);
        backends.replaceAll((name, backend) -> backend.withDefaults(defaults));
        GatewayConfig config = new GatewayConfig(backends, models, declared == null ? null : declared.keys(),
                declared == null ? null : declared.tools());
        validate(config);
        return config;
    }

    private String read() {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot be read: " + e.getMessage(), e);
        }
    }

    GatewayConfig parse(String text) {
        String resolved = resolveEnv(text);
        if (resolved.isBlank()) {
            return new GatewayConfig(null, null, null, null);
        }
        try {
            GatewayConfig config = YAML.readValue(resolved, GatewayConfig.class);
            return config == null ? new GatewayConfig(null, null, null, null) : config;
        } catch (UnrecognizedPropertyException e) {
            throw new ConfigException(String.format("%s line %d: unknown key '%s' (known: %s)", file,
                    YamlLines.lineOf(resolved, e.getPath()), e.getPropertyName(), e.getKnownPropertyIds()), e);
        } catch (JsonProcessingException e) {
            throw new ConfigException(String.format("%s line %d: %s", file,
                    e.getLocation() == null ? 0 : e.getLocation().getLineNr(), e.getOriginalMessage()), e);
        }
    }

    private String resolveEnv(String text) {
        Matcher m = ENV_REF.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = env.apply(m.group(1));
            if (value == null) {
                value = m.group(2);
            }
            if (value == null) {
                LOG.warn("{}: ${{env:{}}} is not set; using an empty value", file, m.group(1));
                value = "";
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }

    private void validate(GatewayConfig config) {
        config.backends().forEach((name, backend) -> {
            BackendType type;
            try {
                type = backend.backendType();
            } catch (IllegalArgumentException e) {
                throw new ConfigException(file + ": backend '" + name + "': " + e.getMessage());
            }
            if (type != BackendType.LOCAL && (backend.url() == null || backend.url().isBlank())) {
                throw new ConfigException(file + ": backend '" + name + "' needs a url");
            }
            if (backend.maxConcurrent() < 1 || backend.queueSize() < 0 || backend.queueTimeoutSeconds() < 0
                    || backend.timeoutSeconds() < 1) {
                throw new ConfigException(file + ": backend '" + name
                        + "': max-concurrent and timeout-seconds must be at least 1, queue sizes and timeouts not negative");
            }
        });
        config.models().forEach((id, model) -> {
            if (model.backend() == null || !config.backends().containsKey(model.backend())) {
                throw new ConfigException(file + ": model '" + id + "' names backend '" + model.backend()
                        + "', which is not declared (backends: " + config.backends().keySet() + ")");
            }
            for (String fallback : model.fallbacksOrEmpty()) {
                if (!config.models().containsKey(fallback) && !ModelCatalog.isPrefixMatch(config.models(), fallback)) {
                    throw new ConfigException(file + ": model '" + id + "' falls back to '" + fallback
                            + "', which is not declared");
                }
            }
        });
        config.keys().forEach(key -> {
            if (key.key() == null || key.key().isBlank()) {
                throw new ConfigException(file + ": a key of keys: has no key value (name: " + key.name() + ")");
            }
        });
    }
}
