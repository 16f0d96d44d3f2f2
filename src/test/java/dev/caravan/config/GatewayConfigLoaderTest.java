package dev.caravan.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * gateway.yaml as DESIGN §3/§3a define it: the full schema, env references, refusals that name file, line and key,
 * the embedded default, the env-only set-up and the model catalog's resolution order.
 */
class GatewayConfigLoaderTest {

    private static final Defaults DEFAULTS = new Defaults(8, 64, 30, 300);

    @TempDir
    Path dir;
    Path file;
    final Map<String, String> env = new HashMap<>();

    @BeforeEach
    void setUp() {
        file = dir.resolve("gateway.yaml");
    }

    private GatewayConfig load(String yaml) {
        return load(yaml, DEFAULTS);
    }

    private GatewayConfig load(String yaml, Defaults defaults) {
        write(yaml);
        return loader(defaults).load();
    }

    private GatewayConfigLoader loader(Defaults defaults) {
        return new GatewayConfigLoader(file, defaults, name -> env.get(name));
    }

    private void write(String yaml) {
        try {
            Files.writeString(file, yaml);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private ConfigException refused(String yaml) {
        write(yaml);
        return assertThrows(ConfigException.class, () -> loader(DEFAULTS).load());
    }

    // -- the schema of §3a -------------------------------------------------------------------------------------

    private static final String FULL = """
            backends:
              gpu:
                type: ollama
                url: http://127.0.0.1:11434
                api-key: ${env:OLLAMA_KEY}
                max-concurrent: 4
                queue-size: 16
                queue-timeout-seconds: 7
                timeout-seconds: 120
              fake:
                type: openai
                url: http://127.0.0.1:8000/v1
              cloud:
                type: openai
                url: https://api.openai.com
                api-key: ${env:CLOUD_KEY:sk-default}
            models:
              llama3.2:
                backend: gpu
                upstream-model: llama3.2:latest
                aliases: [llama, llama3]
                fallbacks: [gpt-4o-mini]
                context-window: 8192
                cost: {input-per-1k: 0.5, output-per-1k: 1.5}
              gpt-4o-mini:
                backend: cloud
              "fake/*":
                backend: fake
            keys:
              - key: ${env:ALICE_KEY}
                name: alice
                models: ["*"]
                rate-limit-per-min: 60
                burst: 10
                tokens-per-min: 100000
                priority: high
            tools: {}
            """;

    @Test
    void theFullSchemaParses() {
        env.put("OLLAMA_KEY", "ollama-secret");
        env.put("ALICE_KEY", "sk-alice");
        GatewayConfig config = load(FULL);

        assertEquals(List.of("gpu", "fake", "cloud"), List.copyOf(config.backends().keySet()),
                "only the declared backends: no local backend when a file exists");
        BackendConfig gpu = config.backends().get("gpu");
        assertEquals(BackendType.OLLAMA, gpu.backendType());
        assertEquals("http://127.0.0.1:11434", gpu.url());
        assertEquals("ollama-secret", gpu.apiKey());
        assertEquals(4, gpu.maxConcurrent());
        assertEquals(16, gpu.queueSize());
        assertEquals(7, gpu.queueTimeoutSeconds());
        assertEquals(120, gpu.timeoutSeconds());

        BackendConfig fake = config.backends().get("fake");
        assertEquals(BackendType.OPENAI, fake.backendType());
        assertEquals("http://127.0.0.1:8000/v1", fake.url());
        assertEquals(8, fake.maxConcurrent(), "defaults fill what a backend does not say");
        assertEquals(64, fake.queueSize());
        assertEquals(30, fake.queueTimeoutSeconds());
        assertEquals(300, fake.timeoutSeconds());

        ModelConfig llama = config.models().get("llama3.2");
        assertEquals("gpu", llama.backend());
        assertEquals("llama3.2:latest", llama.upstreamModel());
        assertEquals(List.of("llama", "llama3"), llama.aliases());
        assertEquals(List.of("gpt-4o-mini"), llama.fallbacks());
        assertEquals(8192, llama.contextWindow());
        assertEquals(0.5, llama.costOrFree().inputPer1k(), 1e-9);
        assertEquals(1.5, llama.costOrFree().outputPer1k(), 1e-9);
        assertEquals("cloud", config.models().get("gpt-4o-mini").backend());
        assertEquals("fake", config.models().get("fake/*").backend());

        assertEquals(1, config.keys().size());
        KeyConfig alice = config.keys().get(0);
        assertEquals("sk-alice", alice.key());
        assertEquals("alice", alice.name());
        assertEquals(List.of("*"), alice.models());
        assertEquals(60, alice.rateLimitPerMin());
        assertEquals(10, alice.burst());
        assertEquals(100000, alice.tokensPerMin());
        assertEquals("high", alice.priority());
        assertNotNull(config.tools());
        assertTrue(config.tools().isEmpty());
    }

    @Test
    void envReferencesResolveWithAndWithoutDefault() {
        env.put("GPU_URL", "http://10.0.0.7:11434");
        env.put("GPU_KEY", "from-env");
        GatewayConfig config = load("""
                backends:
                  gpu:
                    type: ollama
                    url: ${env:GPU_URL}
                    api-key: ${env:GPU_KEY:unused-default}
                  other:
                    type: openai
                    url: ${env:OTHER_URL:http://127.0.0.1:9000}
                    api-key: ${env:OTHER_KEY:sk-fallback}
                models:
                  m: {backend: gpu}
                """);
        assertEquals("http://10.0.0.7:11434", config.backends().get("gpu").url());
        assertEquals("from-env", config.backends().get("gpu").apiKey(), "a set variable wins over the default");
        assertEquals("http://127.0.0.1:9000", config.backends().get("other").url());
        assertEquals("sk-fallback", config.backends().get("other").apiKey());
    }

    // -- refusals ----------------------------------------------------------------------------------------------

    @Test
    void anUnknownKeyIsRefusedWithFileLineAndKey() {
        ConfigException e = refused("""
                backends:
                  gpu:
                    type: ollama
                    url: http://127.0.0.1:11434
                    max-concurency: 4
                models:
                  m: {backend: gpu}
                """);
        String message = e.getMessage();
        assertTrue(message.contains(file.toString()), "names the file: " + message);
        assertTrue(message.contains("line 5"), "names the line of the key (5): " + message);
        assertTrue(message.contains("max-concurency"), "names the key: " + message);
    }

    @Test
    void anUnknownTopLevelKeyIsRefused() {
        ConfigException e = refused("""
                backends:
                  gpu: {type: ollama, url: "http://127.0.0.1:11434"}
                modles:
                  m: {backend: gpu}
                """);
        assertTrue(e.getMessage().contains("modles"), e.getMessage());
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());
    }

    @Test
    void yamlThatDoesNotParseIsRefusedWithFileAndLine() {
        ConfigException e = refused("""
                backends:
                  gpu:
                    type: ollama
                    url: [unclosed
                models: {}
                """);
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().matches("(?s).*line [1-9].*"), "names a line: " + e.getMessage());
    }

    @Test
    void aModelNamingAnUndeclaredBackendIsRefused() {
        ConfigException e = refused("""
                backends:
                  gpu: {type: ollama, url: "http://127.0.0.1:11434"}
                models:
                  llama3.2: {backend: gpuu}
                """);
        assertTrue(e.getMessage().contains("llama3.2"), "names the model: " + e.getMessage());
        assertTrue(e.getMessage().contains("gpuu"), "names the backend: " + e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
    }

    @Test
    void aBackendOfUnknownTypeIsRefused() {
        ConfigException e = refused("""
                backends:
                  gpu: {type: llamafile, url: "http://127.0.0.1:8080"}
                models:
                  m: {backend: gpu}
                """);
        assertTrue(e.getMessage().contains("gpu"), e.getMessage());
        assertTrue(e.getMessage().contains("llamafile"), e.getMessage());
    }

    @Test
    void aBackendWithoutTypeIsRefused() {
        ConfigException e = refused("""
                backends:
                  gpu: {url: "http://127.0.0.1:8080"}
                models: {}
                """);
        assertTrue(e.getMessage().contains("gpu"), e.getMessage());
    }

    @Test
    void anOllamaBackendWithoutUrlIsRefused() {
        ConfigException e = refused("""
                backends:
                  gpu: {type: ollama, max-concurrent: 2}
                models:
                  m: {backend: gpu}
                """);
        assertTrue(e.getMessage().contains("gpu"), e.getMessage());
        assertTrue(e.getMessage().contains("url"), e.getMessage());
    }

    @Test
    void aFallbackToAnUndeclaredModelIsRefused() {
        ConfigException e = refused("""
                backends:
                  gpu: {type: ollama, url: "http://127.0.0.1:11434"}
                models:
                  m: {backend: gpu, fallbacks: [nowhere]}
                """);
        assertTrue(e.getMessage().contains("nowhere"), e.getMessage());
    }

    // -- no file, env-only ---------------------------------------------------------------------------------------

    @Test
    void noFileGivesTheBuiltInLocalBackend() {
        GatewayConfig config = loader(DEFAULTS).load();
        assertEquals(List.of("local"), List.copyOf(config.backends().keySet()));
        assertEquals(BackendType.LOCAL, config.backends().get("local").backendType());
        assertNull(config.backends().get("local").url());
        assertEquals("local", config.models().get("caravan-echo").backend());
        assertEquals("local", config.models().get("all-minilm-l6-v2").backend());
        assertTrue(config.keys().isEmpty(), "no keys: auth off");
        ModelCatalog catalog = new ModelCatalog(config);
        assertTrue(catalog.declaredModels().containsAll(List.of("caravan-echo", "all-minilm-l6-v2")));
    }

    @Test
    void ollamaUrlAddsAnOllamaBackendAndPrefixModel() {
        env.put("OLLAMA_URL", "http://127.0.0.1:11434");
        GatewayConfig config = loader(DEFAULTS).load();
        BackendConfig ollama = config.backends().get("ollama");
        assertNotNull(ollama, "backends: " + config.backends().keySet());
        assertEquals(BackendType.OLLAMA, ollama.backendType());
        assertEquals("http://127.0.0.1:11434", ollama.url());
        assertEquals("ollama", config.models().get("ollama/*").backend());
        assertTrue(config.backends().containsKey("local"), "the embedded default stays beside it");
        assertEquals("llama3.2", new ModelCatalog(config).resolve("ollama/llama3.2").orElseThrow().upstreamModel());
    }

    @Test
    void vllmUrlAddsAnOpenAiTypeBackend() {
        env.put("VLLM_URL", "http://127.0.0.1:8000");
        GatewayConfig config = loader(DEFAULTS).load();
        BackendConfig vllm = config.backends().get("vllm");
        assertNotNull(vllm, "backends: " + config.backends().keySet());
        assertEquals(BackendType.OPENAI, vllm.backendType());
        assertEquals("http://127.0.0.1:8000", vllm.url());
        assertEquals("vllm", config.models().get("vllm/*").backend());
    }

    @Test
    void tgiUrlAddsATgiBackend() {
        env.put("TGI_URL", "http://127.0.0.1:8081");
        GatewayConfig config = loader(DEFAULTS).load();
        BackendConfig tgi = config.backends().get("tgi");
        assertNotNull(tgi, "backends: " + config.backends().keySet());
        assertEquals(BackendType.TGI, tgi.backendType());
        assertEquals("http://127.0.0.1:8081", tgi.url());
        assertEquals("tgi", config.models().get("tgi/*").backend());
    }

    @Test
    void llmBackendUrlTakesItsTypeFromLlmBackend() {
        env.put("LLM_BACKEND_URL", "http://127.0.0.1:8082");
        env.put("LLM_BACKEND", "tgi");
        GatewayConfig config = loader(DEFAULTS).load();
        Map.Entry<String, BackendConfig> added = config.backends().entrySet().stream()
                .filter(e -> "http://127.0.0.1:8082".equals(e.getValue().url())).findFirst()
                .orElseThrow(() -> new AssertionError("no backend for LLM_BACKEND_URL: " + config.backends()));
        assertEquals(BackendType.TGI, added.getValue().backendType());
        assertTrue(config.models().values().stream().anyMatch(m -> added.getKey().equals(m.backend())),
                "a prefix model routes to it: " + config.models());
        assertEquals(added.getKey(), new ModelCatalog(config).resolve(added.getKey() + "/some-model")
                .orElseThrow().backendName());
    }

    @Test
    void llmBackendVllmMeansOpenAiProtocol() {
        env.put("LLM_BACKEND_URL", "http://127.0.0.1:8083");
        env.put("LLM_BACKEND", "vllm");
        GatewayConfig config = loader(DEFAULTS).load();
        BackendConfig added = config.backends().values().stream()
                .filter(b -> "http://127.0.0.1:8083".equals(b.url())).findFirst().orElseThrow();
        assertEquals(BackendType.OPENAI, added.backendType());
    }

    @Test
    void openAiApiKeyAddsTheOpenAiBackend() {
        env.put("OPENAI_API_KEY", "sk-test-123");
        GatewayConfig config = loader(DEFAULTS).load();
        BackendConfig openai = config.backends().get("openai");
        assertNotNull(openai, "backends: " + config.backends().keySet());
        assertEquals(BackendType.OPENAI, openai.backendType());
        assertEquals("https://api.openai.com", openai.url());
        assertEquals("sk-test-123", openai.apiKey());
        assertEquals("openai", config.models().get("openai/*").backend());
    }

    @Test
    void blankEnvValuesAddNothing() {
        env.put("OLLAMA_URL", "  ");
        env.put("OPENAI_API_KEY", "");
        GatewayConfig config = loader(DEFAULTS).load();
        assertEquals(List.of("local"), List.copyOf(config.backends().keySet()));
    }

    @Test
    void envBackendsAreNotAddedBesideAFile() {
        env.put("OLLAMA_URL", "http://127.0.0.1:11434");
        env.put("VLLM_URL", "http://127.0.0.1:8000");
        GatewayConfig config = load("""
                backends:
                  gpu: {type: ollama, url: "http://127.0.0.1:11434", max-concurrent: 2}
                models:
                  m: {backend: gpu}
                """);
        assertEquals(List.of("gpu"), List.copyOf(config.backends().keySet()),
                "one lane per upstream: OLLAMA_URL would be a second lane to gpu's upstream");
        assertTrue(!config.models().containsKey("ollama/*") && !config.models().containsKey("vllm/*"),
                config.models().toString());
    }

    @Test
    void maxConcurrentDefaultAppliesToBackendsThatDoNotSayIt() {
        GatewayConfig config = load("""
                backends:
                  a: {type: openai, url: "http://127.0.0.1:8000"}
                  b: {type: openai, url: "http://127.0.0.1:8001", max-concurrent: 5}
                models:
                  m: {backend: a}
                """, new Defaults(3, 10, 20, 40));
        assertEquals(3, config.backends().get("a").maxConcurrent());
        assertEquals(10, config.backends().get("a").queueSize());
        assertEquals(20, config.backends().get("a").queueTimeoutSeconds());
        assertEquals(40, config.backends().get("a").timeoutSeconds());
        assertEquals(5, config.backends().get("b").maxConcurrent(), "a declared value wins");
        env.put("OLLAMA_URL", "http://127.0.0.1:11434");
        GatewayConfig envOnly = new GatewayConfigLoader(dir.resolve("absent.yaml"), new Defaults(3, 10, 20, 40),
                name -> env.get(name)).load();
        assertEquals(3, envOnly.backends().get("ollama").maxConcurrent(), "env backends take the default too");
    }

    @Test
    void aSecondBackendOnTheSameUpstreamIsRefused() {
        ConfigException e = refused("""
                backends:
                  gpu: {type: ollama, url: "http://127.0.0.1:11434", max-concurrent: 2}
                  gpu-again: {type: ollama, url: "http://127.0.0.1:11434/", max-concurrent: 2}
                models:
                  a: {backend: gpu}
                  b: {backend: gpu-again}
                """);
        assertTrue(e.getMessage().contains("'gpu'") && e.getMessage().contains("'gpu-again'"), e.getMessage());
        ConfigException v1 = refused("""
                backends:
                  vllm: {type: openai, url: "http://LOCALHOST:8000/v1"}
                  vllm2: {type: openai, url: "http://localhost:8000"}
                models:
                  a: {backend: vllm}
                """);
        assertTrue(v1.getMessage().contains("same upstream"), v1.getMessage());
        // another port, or another protocol on another path, is another upstream
        load("""
                backends:
                  a: {type: openai, url: "http://127.0.0.1:8000"}
                  b: {type: openai, url: "http://127.0.0.1:8001"}
                  c: {type: tgi, url: "http://127.0.0.1:8000/tgi"}
                models:
                  m: {backend: a}
                """);
    }

    @Test
    void envReferencesInCommentsAreNotRead() {
        env.put("SECRET_IN_COMMENT", "line: \"\n  injected: true");
        GatewayConfig config = load("""
                # api-key: ${env:NOT_SET_ANYWHERE}   (a note for operators, not a value)
                backends:
                  gpu: {type: ollama, url: "http://127.0.0.1:11434"} # was ${env:SECRET_IN_COMMENT}
                models:
                  m: {backend: gpu, upstream-model: "a # not a comment ${env:MODEL_TAG:latest}"}
                """);
        assertEquals("http://127.0.0.1:11434", config.backends().get("gpu").url());
        assertEquals("a # not a comment latest", config.models().get("m").upstreamModel(),
                "a reference in a quoted value is still resolved");
    }

    @Test
    void zeroMaxConcurrentIsRefused() {
        ConfigException e = refused("""
                backends:
                  a: {type: openai, url: "http://127.0.0.1:8000", max-concurrent: 0}
                models: {}
                """);
        assertTrue(e.getMessage().contains("'a'"), e.getMessage());
    }

    // -- per-backend retry and circuit breaker -------------------------------------------------------------------

    private static final Defaults TUNED_DEFAULTS = new Defaults(8, 64, 30, 300, new RetrySettings(3, 200L, 5000L),
            new CircuitBreakerSettings(50f, 80f, 60_000L, 10, 20, 30_000L, 2));

    @Test
    void retryAndCircuitBreakerSettingsArePerBackendKeyByKeyOverTheDefaults() {
        GatewayConfig config = load("""
                backends:
                  patient:
                    type: openai
                    url: http://127.0.0.1:8000
                    retry: {max-attempts: 5, max-delay-ms: 9000}
                    circuit-breaker:
                      failure-rate-threshold: 25
                      minimum-calls: 4
                      sliding-window-size: 8
                      wait-in-open-ms: 1500
                  plain: {type: ollama, url: "http://127.0.0.1:11434"}
                models: {}
                """, TUNED_DEFAULTS);
        BackendConfig patient = config.backends().get("patient");
        assertEquals(new RetrySettings(5, 200L, 9000L), patient.retry(), "unsaid keys keep the default");
        assertEquals(new CircuitBreakerSettings(25f, 80f, 60_000L, 4, 8, 1500L, 2), patient.circuitBreaker());
        BackendConfig plain = config.backends().get("plain");
        assertEquals(TUNED_DEFAULTS.retry(), plain.retry(), "a backend that says nothing gets gateway.retry.*");
        assertEquals(TUNED_DEFAULTS.circuitBreaker(), plain.circuitBreaker());
    }

    @Test
    void anUnknownRetryOrCircuitKeyIsRefusedWithFileLineAndKey() {
        ConfigException retry = refused("""
                backends:
                  gpu:
                    type: ollama
                    url: http://127.0.0.1:11434
                    retry:
                      max-attempts: 2
                      backoff-ms: 100
                models: {}
                """);
        assertTrue(retry.getMessage().contains(file.toString()), retry.getMessage());
        assertTrue(retry.getMessage().contains("line 7"), "names the line of the key (7): " + retry.getMessage());
        assertTrue(retry.getMessage().contains("backoff-ms"), retry.getMessage());
        assertTrue(retry.getMessage().contains("max-attempts"), "lists the known keys: " + retry.getMessage());

        ConfigException circuit = refused("""
                backends:
                  gpu:
                    type: ollama
                    url: http://127.0.0.1:11434
                    circuit-breaker: {failure-rate: 20}
                models: {}
                """);
        assertTrue(circuit.getMessage().contains("line 5"), circuit.getMessage());
        assertTrue(circuit.getMessage().contains("failure-rate"), circuit.getMessage());
    }

    @Test
    void retryAndCircuitValuesThatCannotWorkAreRefused() {
        ConfigException zero = refused("""
                backends:
                  a: {type: openai, url: "http://127.0.0.1:8000", retry: {max-attempts: 0}}
                models: {}
                """);
        assertTrue(zero.getMessage().contains("'a'") && zero.getMessage().contains("retry.max-attempts"),
                zero.getMessage());
        ConfigException rate = refused("""
                backends:
                  a: {type: openai, url: "http://127.0.0.1:8000", circuit-breaker: {failure-rate-threshold: 150}}
                models: {}
                """);
        assertTrue(rate.getMessage().contains("circuit-breaker.failure-rate-threshold"), rate.getMessage());
        ConfigException text = refused("""
                backends:
                  a:
                    type: openai
                    url: "http://127.0.0.1:8000"
                    retry: {max-attempts: many}
                models: {}
                """);
        assertTrue(text.getMessage().contains("line 5"), text.getMessage());
    }

    @Test
    void theDockerExampleLoads() throws IOException {
        GatewayConfig config = load(Files.readString(Path.of("docker/gateway.example.yaml")), TUNED_DEFAULTS);
        BackendConfig gpu = config.backends().get("gpu");
        assertEquals(new RetrySettings(2, 100L, 5000L), gpu.retry());
        assertEquals(15_000L, gpu.circuitBreaker().waitInOpenMs());
    }

    // -- ModelCatalog --------------------------------------------------------------------------------------------

    private ModelCatalog catalog() {
        return new ModelCatalog(load("""
                backends:
                  gpu: {type: ollama, url: "http://127.0.0.1:11434"}
                  fake: {type: openai, url: "http://127.0.0.1:8000"}
                  special: {type: openai, url: "http://127.0.0.1:8001"}
                models:
                  llama3.2:
                    backend: gpu
                    upstream-model: llama3.2:latest
                    aliases: [llama]
                  plain: {backend: gpu}
                  "fake/*": {backend: fake}
                  "fake/special/*": {backend: special}
                """));
    }

    @Test
    void catalogResolvesAnExactId() {
        ModelRoute route = catalog().resolve("llama3.2").orElseThrow();
        assertEquals("gpu", route.backendName());
        assertEquals("llama3.2:latest", route.upstreamModel());
        assertEquals("llama3.2", route.model());
        assertEquals("http://127.0.0.1:11434", route.backend().url());
        assertEquals("plain", catalog().resolve("plain").orElseThrow().upstreamModel(),
                "without upstream-model the id itself goes upstream");
    }

    @Test
    void catalogResolvesAnAlias() {
        ModelRoute route = catalog().resolve("llama").orElseThrow();
        assertEquals("gpu", route.backendName());
        assertEquals("llama3.2:latest", route.upstreamModel());
        assertEquals("llama", route.model(), "the reply names the model the client asked for");
    }

    @Test
    void catalogResolvesAPrefixModel() {
        ModelRoute route = catalog().resolve("fake/x").orElseThrow();
        assertEquals("fake", route.backendName());
        assertEquals("x", route.upstreamModel());
        assertEquals("fake/x", route.model());
    }

    @Test
    void theLongestPrefixWins() {
        ModelRoute route = catalog().resolve("fake/special/y").orElseThrow();
        assertEquals("special", route.backendName());
        assertEquals("y", route.upstreamModel());
        assertEquals("fake", catalog().resolve("fake/other/y").orElseThrow().backendName());
        assertEquals("other/y", catalog().resolve("fake/other/y").orElseThrow().upstreamModel());
    }

    @Test
    void unknownModelsResolveToNothing() {
        ModelCatalog catalog = catalog();
        assertEquals(Optional.empty(), catalog.resolve("gpt-5"));
        assertEquals(Optional.empty(), catalog.resolve("fake/"), "a bare prefix names no model");
        assertEquals(Optional.empty(), catalog.resolve("fake"));
        assertEquals(Optional.empty(), catalog.resolve(null));
    }
}
