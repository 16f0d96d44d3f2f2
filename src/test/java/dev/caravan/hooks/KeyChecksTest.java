package dev.caravan.hooks;

import java.nio.file.Path;
import java.util.List;

import dev.caravan.config.ApiKeys;
import dev.caravan.config.ConfigException;
import dev.caravan.config.Defaults;
import dev.caravan.config.GatewayConfigLoader;
import dev.caravan.config.KeyConfig;
import dev.caravan.config.LiveConfig;
import dev.caravan.config.Priority;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parts of key checking that need no server: model globs, API_KEYS_JSON, lookup, priority tiers. */
class KeyChecksTest {

    @Test
    void modelGlobs() {
        assertTrue(KeyConfig.matches("*", "anything/at:all"));
        assertTrue(KeyConfig.matches("llama*", "llama3.2:latest"));
        assertFalse(KeyConfig.matches("llama*", "codellama"));
        assertTrue(KeyConfig.matches("ollama/*", "ollama/llama3.2"));
        assertFalse(KeyConfig.matches("ollama/*", "ollama"));
        assertFalse(KeyConfig.matches("ollama/*", "vllm/ollama/x"));
        assertTrue(KeyConfig.matches("gpt-4o-mini", "gpt-4o-mini"));
        assertFalse(KeyConfig.matches("gpt-4o-mini", "gpt-4o-mini-2024"));
        assertFalse(KeyConfig.matches("gpt-4o", "gpt-4o-mini"));
        assertTrue(KeyConfig.matches("*-mini", "gpt-4o-mini"));
        assertTrue(KeyConfig.matches("a*b*c", "a-x-b-y-b-c"));
        assertTrue(KeyConfig.matches("gpt-?o", "gpt-4o"));
        assertFalse(KeyConfig.matches("", "x"));
        assertTrue(new KeyConfig("k", "n", List.of("x", "ollama/*"), null, null, null, null).allows("ollama/a"));
        assertFalse(new KeyConfig("k", "n", List.of(), null, null, null, null).allows("ollama/a"));
        assertTrue(new KeyConfig("k", "n", null, null, null, null, null).allows("ollama/a"));
    }

    @Test
    void apiKeysJsonTakesKebabAndSnakeCase() {
        ApiKeys keys = new ApiKeys(noFile(), """
                [{"key":"sk-a","name":"alice","models":["*"],"rate-limit-per-min":60,"burst":10,"priority":"high"},
                 {"key":"sk-b","name":"bob","rate_limit_per_min":5,"tokens_per_min":1000}]""", null);
        assertFalse(keys.authOff());
        KeyConfig alice = keys.find("sk-a").config();
        assertEquals(60, alice.rateLimitPerMin());
        assertEquals(10, alice.burst());
        assertEquals(List.of("*"), alice.models());
        KeyConfig bob = keys.find("sk-b").config();
        assertEquals(5, bob.rateLimitPerMin());
        assertEquals(1000, bob.tokensPerMin());
        assertNull(keys.find("sk-c"));
        assertNull(keys.find("sk-"));
        assertNull(keys.find(""));
        assertNull(keys.find(null));
    }

    @Test
    void aBrokenApiKeysJsonStopsTheGatewayWithoutQuotingIt() {
        ConfigException notJson = assertThrows(ConfigException.class,
                () -> new ApiKeys(noFile(), "[{\"key\":\"sk-secret-value\",", null));
        assertFalse(notJson.getMessage().contains("sk-secret"), notJson.getMessage());
        assertNull(notJson.getCause());
        ConfigException unknown = assertThrows(ConfigException.class,
                () -> new ApiKeys(noFile(), "[{\"key\":\"sk-secret-value\",\"rate\":1}]", null));
        assertTrue(unknown.getMessage().contains("'rate'"), unknown.getMessage());
        assertFalse(unknown.getMessage().contains("sk-secret"), unknown.getMessage());
        assertThrows(ConfigException.class, () -> new ApiKeys(noFile(), "{\"key\":\"sk-a\"}", null));
        assertThrows(ConfigException.class, () -> new ApiKeys(noFile(), "[{\"name\":\"keyless\"}]", null));
    }

    @Test
    void noKeysMeansAuthOffAndTheAdminKeyIsNotAnApiKey() {
        ApiKeys none = new ApiKeys(noFile(), "", "sk-admin");
        assertTrue(none.authOff());
        assertTrue(none.hasAdminKey());
        assertTrue(none.isAdmin("sk-admin"));
        assertFalse(none.isAdmin("sk-admin2"));
        assertFalse(none.isAdmin(null));
        assertNull(none.find("sk-admin"));
    }

    @Test
    void shortHashNamesAKeyWithoutShowingIt() {
        String hash = ApiKeys.shortHash("sk-alice");
        assertEquals(8, hash.length());
        assertTrue(hash.matches("[0-9a-f]{8}"));
        assertFalse(hash.contains("alice"));
        ApiKeys keys = new ApiKeys(noFile(), "[{\"key\":\"sk-alice\"}]", null);
        ApiKeys.Entry entry = keys.find("sk-alice");
        assertNotNull(entry);
        assertEquals(hash, entry.shortHash());
        assertEquals(hash, entry.label()); // no name: the hash names it
    }

    @Test
    void aKeyMayLowerItsPriorityButNotRaiseIt() {
        KeyConfig normal = new KeyConfig("k", "n", null, null, null, null, null);
        KeyConfig high = new KeyConfig("k", "n", null, null, null, null, "high");
        KeyConfig low = new KeyConfig("k", "n", null, null, null, null, "LOW");
        assertEquals(Priority.NORMAL, ApiKeyAuth.capped(null, normal));
        assertEquals(Priority.NORMAL, ApiKeyAuth.capped(Priority.HIGH, normal));
        assertEquals(Priority.LOW, ApiKeyAuth.capped(Priority.LOW, normal));
        assertEquals(Priority.HIGH, ApiKeyAuth.capped(null, high));
        assertEquals(Priority.NORMAL, ApiKeyAuth.capped(Priority.NORMAL, high));
        assertEquals(Priority.LOW, ApiKeyAuth.capped(Priority.HIGH, low));
    }

    private static LiveConfig noFile() {
        return new LiveConfig(new GatewayConfigLoader(Path.of("target", "no-such-gateway.yaml"),
                new Defaults(8, 64, 30, 300), name -> null));
    }
}
