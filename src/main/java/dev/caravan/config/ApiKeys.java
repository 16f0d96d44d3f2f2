package dev.caravan.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API keys in force: gateway.yaml {@code keys:} (hot-reloaded) merged with {@code API_KEYS_JSON} (read once
 * at start), the file winning when both hold the same key value. None at all means auth is off.
 * <p>
 * Keys are held by the SHA-256 of their value, and a presented key is found by its own digest and confirmed
 * with {@link MessageDigest#isEqual}: the time a lookup takes says nothing about how much of a key was right.
 * Key values are never logged; {@link #shortHash} names a key in logs.
 */
public final class ApiKeys {

    private static final Logger LOG = LoggerFactory.getLogger(ApiKeys.class);
    private static final HexFormat HEX = HexFormat.of();
    private static final ObjectMapper KEBAB = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** A configured key, with the digest it is looked up by ({@code hex}: the digest in hex). */
    public record Entry(KeyConfig config, byte[] digest, String hex) {

        /** 8 hex digits: names the key in logs. */
        public String shortHash() {
            return hex.substring(0, 8);
        }

        /** 16 hex digits: names the key's state (rate-limit buckets) in memory and in Redis. */
        public String id() {
            return hex.substring(0, 16);
        }

        /** The key's name, or its short hash when it has none. */
        public String label() {
            return config.name() == null || config.name().isBlank() ? shortHash() : config.name();
        }
    }

    private final List<KeyConfig> envKeys;
    private final byte[] adminDigest;
    private volatile Map<String, Entry> byDigest = Map.of();

    /**
     * @param apiKeysJson API_KEYS_JSON: a JSON array of key objects (kebab-case or snake_case fields); blank for none
     * @param adminKey    ADMIN_API_KEY; blank for none
     */
    public ApiKeys(LiveConfig config, String apiKeysJson, String adminKey) {
        this.envKeys = parseJson(apiKeysJson);
        this.adminDigest = adminKey == null || adminKey.isBlank() ? null : sha256(adminKey.trim());
        apply(config.config().keys());
        // with API_KEYS_JSON in force, a gateway.yaml edit that drops the file's keys leaves auth on
        config.keysOutsideTheFile(!envKeys.isEmpty());
        if (!byDigest.isEmpty()) {
            LOG.info("API keys in force: {}", describe(byDigest));
        }
        config.onChange(catalog -> {
            boolean wasOff = byDigest.isEmpty();
            apply(catalog.config().keys());
            if (byDigest.isEmpty() && !wasOff) {
                LOG.warn("The configuration now holds no API keys: AUTH IS OFF, anyone who reaches this port may use it");
            } else if (!byDigest.isEmpty()) {
                LOG.info("API keys in force: {}", describe(byDigest));
            }
        });
    }

    /** True when no key is configured at all (file and env): every model request is let through. */
    public boolean authOff() {
        return byDigest.isEmpty();
    }

    public boolean hasAdminKey() {
        return adminDigest != null;
    }

    /** The configured key with this value, or null. */
    public Entry find(String presented) {
        if (presented == null || presented.isEmpty()) {
            return null;
        }
        byte[] digest = sha256(presented);
        Entry entry = byDigest.get(HEX.formatHex(digest));
        return entry != null && MessageDigest.isEqual(entry.digest(), digest) ? entry : null;
    }

    /** Whether this value is ADMIN_API_KEY (false when none is set). */
    public boolean isAdmin(String presented) {
        return adminDigest != null && presented != null && !presented.isEmpty()
                && MessageDigest.isEqual(adminDigest, sha256(presented));
    }

    /** All keys in force, in configuration order (file first). */
    public List<Entry> entries() {
        return new ArrayList<>(byDigest.values());
    }

    /** The first 8 hex digits of the key's SHA-256: enough to tell keys apart in a log, useless to an attacker. */
    public static String shortHash(String key) {
        return HEX.formatHex(sha256(key)).substring(0, 8);
    }

    private void apply(List<KeyConfig> fileKeys) {
        Map<String, Entry> next = new LinkedHashMap<>();
        for (KeyConfig key : fileKeys) {
            add(next, key, "gateway.yaml");
        }
        for (KeyConfig key : envKeys) {
            add(next, key, "API_KEYS_JSON");
        }
        byDigest = Collections.unmodifiableMap(next);
    }

    private static void add(Map<String, Entry> keys, KeyConfig key, String source) {
        if (key.key() == null || key.key().isBlank()) {
            LOG.warn("{}: a key without a key value is ignored (name: {})", source, key.name());
            return;
        }
        byte[] digest = sha256(key.key());
        String hex = HEX.formatHex(digest);
        if (keys.containsKey(hex)) {
            LOG.warn("{}: key {} ({}) is declared twice; the first declaration holds", source, hex.substring(0, 8),
                    key.name());
            return;
        }
        if (key.priority() != null && Priority.parse(key.priority()) == null) {
            LOG.warn("{}: key {} ({}) has priority '{}', which is not high, normal or low; it is served as normal",
                    source, hex.substring(0, 8), key.name(), key.priority());
        }
        keys.put(hex, new Entry(key, digest, hex));
    }

    /** Parses API_KEYS_JSON; a value that does not parse stops the gateway rather than leaving it open. */
    static List<KeyConfig> parseJson(String json) {
        if (json == null || json.isBlank()) {
            return List.of();
        }
        JsonNode root;
        try {
            root = KEBAB.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            // no cause attached: a parser message may quote the text, and the text holds keys
            throw new ConfigException("API_KEYS_JSON is not valid JSON (a JSON array of key objects is expected); "
                    + "the error is at character " + (e.getLocation() == null ? "?" : e.getLocation().getCharOffset()));
        }
        if (!root.isArray()) {
            throw new ConfigException("API_KEYS_JSON must be a JSON array of key objects, like "
                    + "[{\"key\":\"sk-...\",\"name\":\"alice\",\"models\":[\"*\"]}]");
        }
        List<KeyConfig> keys = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            JsonNode node = root.get(i);
            if (!(node instanceof ObjectNode object)) {
                throw new ConfigException("API_KEYS_JSON[" + i + "] must be an object");
            }
            try {
                KeyConfig key = KEBAB.treeToValue(kebab(object), KeyConfig.class);
                if (key.key() == null || key.key().isBlank()) {
                    throw new ConfigException("API_KEYS_JSON[" + i + "] has no \"key\" (name: " + key.name() + ")");
                }
                keys.add(key);
            } catch (ConfigException e) {
                throw e;
            } catch (Exception e) {
                // the message names the field, never the values (they may hold the key)
                String detail = e instanceof com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException u
                        ? "unknown field '" + u.getPropertyName() + "' (known: " + u.getKnownPropertyIds() + ")"
                        : "a field has the wrong type";
                throw new ConfigException("API_KEYS_JSON[" + i + "]: " + detail);
            }
        }
        return keys;
    }

    /** snake_case and kebab-case field names both name the gateway.yaml fields. */
    private static ObjectNode kebab(ObjectNode object) {
        ObjectNode out = KEBAB.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            out.set(field.getKey().replace('_', '-'), field.getValue());
        }
        return out;
    }

    private static String describe(Map<String, Entry> keys) {
        List<String> names = new ArrayList<>();
        keys.values().forEach(e -> names.add(e.label() + " (" + e.shortHash() + ")"));
        return String.join(", ", names);
    }

    static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
