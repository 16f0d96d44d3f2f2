package dev.caravan.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads gateway.yaml: env references resolved, unknown keys refused with file, line and key, references between
 * models and backends checked, two backends on one upstream refused. When no file exists: the built-in local
 * backend and what the environment declares ({@link EnvBackends}); a file alone says what the backends are.
 * <p>
 * A backend's settings, each optional, its default from application.properties (env) when absent:
 * <pre>
 * backends:
 *   gpu:
 *     type: ollama                  # openai | ollama | tgi | anthropic | gemini | local
 *     url: http://127.0.0.1:11434
 *     api-key: ${env:GPU_KEY}
 *     max-concurrent: 4             # gateway.default-max-concurrent (MAX_CONCURRENT)
 *     queue-size: 64                # gateway.default-queue-size
 *     queue-timeout-seconds: 30     # gateway.default-queue-timeout-seconds
 *     timeout-seconds: 120          # the whole upstream call; gateway.default-timeout-seconds
 *     retry:                        # gateway.retry.*, key by key
 *       max-attempts: 3             #   calls in all, the first included (1 = no retries)
 *       base-delay-ms: 200          #   backoff ceiling after the first failure, doubling (full jitter)
 *       max-delay-ms: 5000          #   longest wait between attempts, an upstream's retry-after included
 *     circuit-breaker:              # gateway.circuit.*, key by key
 *       failure-rate-threshold: 50  #   % of failed calls in the window that opens it
 *       slow-call-rate-threshold: 80
 *       slow-call-duration-ms: 60000
 *       minimum-calls: 10           #   calls in the window before the rates count
 *       sliding-window-size: 20     #   the last N calls
 *       wait-in-open-ms: 30000      #   open (503 circuit_open) this long, then half-open
 *       half-open-calls: 2          #   probes that close or re-open it
 * </pre>
 * The circuit's scope (per backend and model, or per backend) and its model cap stay global (gateway.circuit.scope,
 * gateway.circuit.max-models): they bound the gateway's own memory, not one backend's behaviour.
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
        EnvBackends envBackends = new EnvBackends(env);
        if (declared == null) {
            backends.put(LocalModels.BACKEND, BackendConfig.of("local", null, null));
            models.putAll(LocalModels.models());
            envBackends.addTo(backends, models);
        } else {
            backends.putAll(declared.backends());
            models.putAll(declared.models());
            // beside a file they would be second lanes to the same upstreams, each with its own max-concurrent
            List<String> ignored = envBackends.declaredVariables();
            if (!ignored.isEmpty()) {
                LOG.warn("{} exists, so the backends of {} are not added: declare them in the file", file, ignored);
            }
        }
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

    /**
     * True when the file is gone or holds no document (empty, blank or comments only): what a delete, a move or a
     * truncating editor leaves, never a configuration an operator meant.
     */
    public boolean absentOrEmpty() {
        if (!Files.isRegularFile(file)) {
            return true;
        }
        try {
            JsonNode tree = YAML.readTree(read());
            return tree == null || tree.isMissingNode() || tree.isNull() || tree.isContainerNode() && tree.isEmpty();
        } catch (JsonProcessingException | ConfigException e) {
            return false; // broken, not empty: load() refuses it with the reason
        }
    }

    /**
     * Env references are resolved in the parsed document's values, not in the text: a reference in a comment is
     * never read (nor its value pasted where the YAML parser could see it), and a value cannot inject YAML.
     */
    GatewayConfig parse(String text) {
        try {
            JsonNode tree = YAML.readTree(text);
            if (tree == null || tree.isMissingNode() || tree.isNull()) {
                return new GatewayConfig(null, null, null, null);
            }
            GatewayConfig config = YAML.treeToValue(resolveEnv(tree), GatewayConfig.class);
            return config == null ? new GatewayConfig(null, null, null, null) : config;
        } catch (UnrecognizedPropertyException e) {
            throw new ConfigException(String.format("%s line %d: unknown key '%s' (known: %s)", file,
                    YamlLines.lineOf(text, e.getPath()), e.getPropertyName(), e.getKnownPropertyIds()), e);
        } catch (JsonMappingException e) {
            // a value mapped from the parsed tree has no location of its own (-1): find its key along the path
            int line = e.getLocation() != null && e.getLocation().getLineNr() > 0 ? e.getLocation().getLineNr()
                    : YamlLines.lineOf(text, e.getPath());
            throw new ConfigException(String.format("%s line %d: %s", file, line, e.getOriginalMessage()), e);
        } catch (JsonProcessingException e) {
            throw new ConfigException(String.format("%s line %d: %s", file,
                    e.getLocation() == null ? 0 : e.getLocation().getLineNr(), e.getOriginalMessage()), e);
        }
    }

    private JsonNode resolveEnv(JsonNode node) {
        if (node.isObject()) {
            ObjectNode object = (ObjectNode) node;
            object.fields().forEachRemaining(field -> field.setValue(resolveEnv(field.getValue())));
        } else if (node.isArray()) {
            ArrayNode array = (ArrayNode) node;
            for (int i = 0; i < array.size(); i++) {
                array.set(i, resolveEnv(array.get(i)));
            }
        } else if (node.isTextual() && node.asText().contains("${env:")) {
            return TextNode.valueOf(resolveEnv(node.asText()));
        }
        return node;
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
        Map<String, String> upstreams = new HashMap<>();
        config.backends().forEach((name, backend) -> {
            if (backend.url() == null || backend.url().isBlank()) {
                return;
            }
            // two lanes to one upstream would each admit max-concurrent calls: the GPU would see twice its slots
            String same = upstreams.putIfAbsent(backend.type() + " " + UpstreamAddress.of(backend.url()), name);
            if (same != null) {
                throw new ConfigException(file + ": backends '" + same + "' and '" + name + "' are the same upstream ("
                        + backend.type() + " at " + UpstreamAddress.of(backend.url())
                        + "): declare it once and point several models at it");
            }
        });
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
            String problem = backend.retry().problem("retry");
            if (problem == null) {
                problem = backend.circuitBreaker().problem("circuit-breaker");
            }
            if (problem != null) {
                throw new ConfigException(file + ": backend '" + name + "': " + problem);
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
