package dev.caravan.hooks;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.emulator.UpstreamEmulator;
import dev.caravan.openai.Json;
import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import org.apache.camel.builder.RouteBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * API keys over real HTTP: 401 without a usable key (and nothing reaches the upstream), 200 with Bearer and
 * x-api-key, 403 for a model outside the key's globs, keys from gateway.yaml merged with API_KEYS_JSON (the
 * file winning), open endpoints, and the admin guard in each of its three modes.
 */
class ApiKeyAuthTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final String ADMIN_KEY = "sk-admin-0123456789";

    static UpstreamEmulator upstream;
    static GatewayInstance gateway;

    @BeforeAll
    static void start() throws Exception {
        upstream = UpstreamEmulator.start();
        gateway = GatewayInstance.builder().config(yaml(upstream))
                // API_KEYS_JSON: snake_case fields, and a second declaration of sk-alice that must lose to the file's
                .property("gateway.api-keys-json", """
                        [{"key":"sk-json","name":"jason","models":["*"],"rate_limit_per_min":0},
                         {"key":"sk-alice","name":"alice-from-env","models":["*"]},
                         {"key":"sk-kebab","name":"kebab","models":["other-*"],"tokens-per-min":0}]""")
                .property("gateway.admin-api-key", ADMIN_KEY)
                .start();
        addAdminProbe(gateway);
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
    }

    @BeforeEach
    void reset() {
        upstream.reset();
    }

    static String yaml(UpstreamEmulator upstream) {
        return """
                backends:
                  emu: {type: openai, url: "%s"}
                models:
                  emu-model: {backend: emu, aliases: [emu-alias]}
                  other-model: {backend: emu}
                  "fake/*": {backend: emu}
                keys:
                  - {key: sk-alice, name: alice, models: ["emu-*", "fake/*"]}
                  - {key: sk-bob, name: bob}
                """.formatted(upstream.baseUrl());
    }

    /** An admin endpoint as the other admin routes will have it: adminAuth first. */
    static void addAdminProbe(GatewayInstance gateway) throws Exception {
        // a lambda, not a RouteBuilder subclass: camel-main's package scan would pick that up in every gateway
        RouteBuilder.addRoutes(gateway.camel(), routes -> routes
                .from("platform-http:/test/admin?httpMethodRestrict=GET").routeId("test-admin-probe")
                .process("adminAuth")
                .setBody(routes.simple("{\"admin\":${exchangeProperty.CaravanAdmin},"
                        + "\"key\":\"${exchangeProperty.CaravanKey?.name()}\"}")));
    }

    static HttpResponse<String> chat(GatewayInstance g, String model, String... headers) throws Exception {
        return g.send(Calls.chatRequest(g, Calls.body(model, "hi there"), headers).timeout(TIMEOUT).build());
    }

    static HttpResponse<String> get(GatewayInstance g, String path, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(g.uri(path)).timeout(TIMEOUT).GET();
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return g.send(request.build());
    }

    static JsonNode error(HttpResponse<String> response, int status, String code) throws Exception {
        assertEquals(status, response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("application/json"));
        JsonNode error = Json.MAPPER.readTree(response.body()).get("error");
        assertEquals(code, error.path("code").asText(), response.body());
        assertTrue(error.has("message") && error.has("type") && error.has("param"), response.body());
        return error;
    }

    // -- 401 --------------------------------------------------------------------------------------------------

    @Test
    void noKeyIs401AndNeverReachesTheUpstream() throws Exception {
        HttpResponse<String> response = chat(gateway, "emu-model");
        JsonNode error = error(response, 401, "invalid_api_key");
        assertTrue(response.headers().firstValue("www-authenticate").orElse("").startsWith("Bearer"));
        assertEquals("invalid_request_error", error.path("type").asText());
        assertTrue(error.path("param").isNull());
        assertEquals(0, upstream.requests());
    }

    @Test
    void wrongKeyIs401WithoutEchoingIt() throws Exception {
        HttpResponse<String> bearer = chat(gateway, "emu-model", "Authorization", "Bearer sk-alicf");
        error(bearer, 401, "invalid_api_key");
        assertFalse(bearer.body().contains("sk-alicf"), bearer.body());
        error(chat(gateway, "emu-model", "x-api-key", "sk-nobody"), 401, "invalid_api_key");
        // a key's prefix is not the key
        error(chat(gateway, "emu-model", "Authorization", "Bearer sk-alic"), 401, "invalid_api_key");
        assertEquals(0, upstream.requests());
    }

    @Test
    void malformedAuthorizationIs401() throws Exception {
        for (String header : new String[] {"Basic c2stYWxpY2U6", "Bearer", "Bearer ", "Bearersk-alice",
                "Token sk-alice", "Bearer sk-alice extra"}) {
            JsonNode error = error(chat(gateway, "emu-model", "Authorization", header), 401, "invalid_api_key");
            assertTrue(error.path("message").asText().contains("malformed"), header + ": " + error);
        }
        assertEquals(0, upstream.requests());
    }

    // -- 200 --------------------------------------------------------------------------------------------------

    @Test
    void bearerAndXApiKeyBothAuthenticate() throws Exception {
        assertEquals(200, chat(gateway, "emu-model", "Authorization", "Bearer sk-alice").statusCode());
        assertEquals(200, chat(gateway, "emu-model", "Authorization", "bearer sk-bob").statusCode());
        assertEquals(200, chat(gateway, "emu-model", "x-api-key", "sk-alice").statusCode());
        assertEquals(3, upstream.requests());
        // the client's key is the gateway's business: it never travels upstream
        assertFalse(upstream.lastRequestHeaders().getOrDefault("authorization", "").contains("sk-alice"));
        assertFalse(upstream.lastRequestHeaders().containsKey("x-api-key"));
    }

    @Test
    void keysFromApiKeysJsonAuthenticate() throws Exception {
        assertEquals(200, chat(gateway, "other-model", "Authorization", "Bearer sk-json").statusCode());
        assertEquals(200, chat(gateway, "other-model", "x-api-key", "sk-kebab").statusCode());
        error(chat(gateway, "emu-model", "x-api-key", "sk-kebab"), 403, "model_not_allowed");
    }

    // -- 403 --------------------------------------------------------------------------------------------------

    @Test
    void modelOutsideTheKeysGlobsIs403() throws Exception {
        JsonNode error = error(chat(gateway, "other-model", "Authorization", "Bearer sk-alice"), 403,
                "model_not_allowed");
        assertEquals("model", error.path("param").asText());
        assertEquals(0, upstream.requests());
        // inside the globs: an exact-prefix glob, an alias matching it, and a prefix model
        assertEquals(200, chat(gateway, "emu-model", "Authorization", "Bearer sk-alice").statusCode());
        assertEquals(200, chat(gateway, "emu-alias", "Authorization", "Bearer sk-alice").statusCode());
        HttpResponse<String> prefix = chat(gateway, "fake/llama3.2", "Authorization", "Bearer sk-alice");
        assertEquals(200, prefix.statusCode(), prefix.body());
        assertEquals("llama3.2", upstream.lastRequestBody().getString("model"));
        // a key without models may use them all
        assertEquals(200, chat(gateway, "other-model", "Authorization", "Bearer sk-bob").statusCode());
    }

    @Test
    void theFileWinsOverApiKeysJsonForTheSameKey() throws Exception {
        // API_KEYS_JSON declares sk-alice with models ["*"]; gateway.yaml's narrower globs hold
        error(chat(gateway, "other-model", "x-api-key", "sk-alice"), 403, "model_not_allowed");
    }

    @Test
    void anUnknownModelIsStill404() throws Exception {
        error(chat(gateway, "no-such-model", "Authorization", "Bearer sk-alice"), 404, "model_not_found");
    }

    // -- open and guarded endpoints ---------------------------------------------------------------------------

    @Test
    void healthMetricsAndStatusNeedNoKey() {
        assertEquals(200, get(gateway, "/health").statusCode());
        assertEquals(200, get(gateway, "/metrics").statusCode());
        assertEquals(200, get(gateway, "/").statusCode());
    }

    @Test
    void modelListingNeedsAKeyWhenAuthIsOn() throws Exception {
        error(get(gateway, "/v1/models"), 401, "invalid_api_key");
        error(get(gateway, "/models"), 401, "invalid_api_key");
        error(get(gateway, "/v1/models/emu-model"), 401, "invalid_api_key");
        error(get(gateway, "/v1/models", "Authorization", "Bearer sk-wrong"), 401, "invalid_api_key");
        HttpResponse<String> listed = get(gateway, "/v1/models", "Authorization", "Bearer sk-bob");
        assertEquals(200, listed.statusCode(), listed.body());
        assertTrue(listed.body().contains("emu-model"), listed.body());
        assertEquals(200, get(gateway, "/v1/models/emu-model", "x-api-key", "sk-bob").statusCode());
    }

    @Test
    void modelListingShowsOnlyWhatTheKeyMayUse() throws Exception {
        // alice may use emu-* and fake/*: the configured emu-model, and what the upstream lists under fake/
        java.util.Set<String> alice = listedIds("sk-alice");
        assertTrue(alice.contains("emu-model") && alice.contains("fake/emu-model"), alice.toString());
        assertFalse(alice.contains("other-model"), "a model outside the key's globs is not listed: " + alice);
        error(get(gateway, "/v1/models/other-model", "Authorization", "Bearer sk-alice"), 404, "model_not_found");
        error(get(gateway, "/models/other-model", "Authorization", "Bearer sk-alice"), 404, "model_not_found");
        assertEquals(200, get(gateway, "/v1/models/fake/emu-model", "Authorization", "Bearer sk-alice").statusCode());
        // kebab may use other-* only; bob has no globs at all (every model)
        assertEquals(java.util.Set.of("other-model"), listedIds("sk-kebab"));
        error(get(gateway, "/v1/models/emu-model", "Authorization", "Bearer sk-kebab"), 404, "model_not_found");
        java.util.Set<String> bob = listedIds("sk-bob");
        assertTrue(bob.containsAll(java.util.Set.of("emu-model", "other-model", "fake/emu-model")), bob.toString());
        assertEquals(200, get(gateway, "/v1/models/other-model", "Authorization", "Bearer sk-bob").statusCode());
    }

    private static java.util.Set<String> listedIds(String key) throws Exception {
        HttpResponse<String> listed = get(gateway, "/v1/models", "Authorization", "Bearer " + key);
        assertEquals(200, listed.statusCode(), listed.body());
        java.util.Set<String> ids = new java.util.TreeSet<>();
        Json.MAPPER.readTree(listed.body()).get("data").forEach(model -> ids.add(model.get("id").asText()));
        return ids;
    }

    @Test
    void adminEndpointsTakeTheAdminKeyOnly() throws Exception {
        HttpResponse<String> admin = get(gateway, "/test/admin", "Authorization", "Bearer " + ADMIN_KEY);
        assertEquals(200, admin.statusCode(), admin.body());
        assertTrue(admin.body().contains("\"admin\":true"), admin.body());
        assertEquals(200, get(gateway, "/test/admin", "x-api-key", ADMIN_KEY).statusCode());
        error(get(gateway, "/test/admin"), 401, "invalid_api_key");
        error(get(gateway, "/test/admin", "Authorization", "Bearer sk-admin-wrong"), 401, "invalid_api_key");
        error(get(gateway, "/test/admin", "Authorization", "Bearer sk-alice"), 403, "admin_key_required");
        // and the admin key is not a key of the model API
        error(chat(gateway, "emu-model", "Authorization", "Bearer " + ADMIN_KEY), 401, "invalid_api_key");
    }

    /** Without ADMIN_API_KEY: admin endpoints take any valid key; without any key at all, they are open. */
    @Nested
    class WithoutAnAdminKey {

        @Test
        void anyValidKeyWhenKeysExist() throws Exception {
            try (GatewayInstance keyed = GatewayInstance.builder().config(yaml(upstream)).start()) {
                addAdminProbe(keyed);
                HttpResponse<String> alice = get(keyed, "/test/admin", "Authorization", "Bearer sk-alice");
                assertEquals(200, alice.statusCode(), alice.body());
                assertTrue(alice.body().contains("\"key\":\"alice\""), alice.body());
                error(get(keyed, "/test/admin"), 401, "invalid_api_key");
                error(get(keyed, "/test/admin", "x-api-key", "sk-nobody"), 401, "invalid_api_key");
            }
        }

        @Test
        void openWhenAuthIsOff() throws Exception {
            try (GatewayInstance open = GatewayInstance.builder().config("""
                    backends:
                      emu: {type: openai, url: "%s"}
                    models:
                      emu-model: {backend: emu}
                    """.formatted(upstream.baseUrl())).start()) {
                addAdminProbe(open);
                assertEquals(200, get(open, "/test/admin").statusCode());
                // and so is the model API, with or without a key
                assertEquals(200, chat(open, "emu-model").statusCode());
                assertEquals(200, chat(open, "emu-model", "Authorization", "Bearer anything").statusCode());
                assertEquals(200, get(open, "/v1/models").statusCode());
            }
        }

        @Test
        void onlyTheAdminKeyWhenItIsSetWithoutOtherKeys() throws Exception {
            try (GatewayInstance adminOnly = GatewayInstance.builder().config("""
                    backends:
                      emu: {type: openai, url: "%s"}
                    models:
                      emu-model: {backend: emu}
                    """.formatted(upstream.baseUrl())).property("gateway.admin-api-key", ADMIN_KEY).start()) {
                addAdminProbe(adminOnly);
                error(get(adminOnly, "/test/admin"), 401, "invalid_api_key");
                assertEquals(200, get(adminOnly, "/test/admin", "x-api-key", ADMIN_KEY).statusCode());
                assertEquals(200, chat(adminOnly, "emu-model").statusCode()); // the model API stays open
            }
        }
    }

    @Test
    void keysAddedToTheFileApplyWithoutARestart() throws Exception {
        try (GatewayInstance reloading = GatewayInstance.builder().config(yaml(upstream)).start()) {
            error(chat(reloading, "emu-model", "x-api-key", "sk-carol"), 401, "invalid_api_key");
            reloading.writeConfig(yaml(upstream) + "  - {key: sk-carol, name: carol, models: [\"emu-model\"]}\n");
            assertTrue(UpstreamEmulator.await(() -> {
                try {
                    return chat(reloading, "emu-model", "x-api-key", "sk-carol").statusCode() == 200;
                } catch (Exception e) {
                    return false;
                }
            }, Duration.ofSeconds(10)), "the new key was not accepted");
            error(chat(reloading, "other-model", "x-api-key", "sk-carol"), 403, "model_not_allowed");
        }
    }
}
