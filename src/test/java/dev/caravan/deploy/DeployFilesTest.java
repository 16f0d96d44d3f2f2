package dev.caravan.deploy;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.caravan.CaravanMain;
import dev.caravan.support.Await;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.RedisServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * docker/ and deploy/ without a Docker engine or a cluster: every file parses, the objects refer to each other
 * (names, labels, ports, paths), the dashboard asks only for metrics a gateway exposes, and the image's start
 * command, run outside Docker from a directory laid out as the image (and as a Kubernetes pod) lays it out, starts
 * a gateway whose health endpoints answer as the probes expect.
 */
class DeployFilesTest {

    private static final Path ROOT = Path.of("").toAbsolutePath();
    private static final Path DOCKER = ROOT.resolve("docker");
    private static final Path K8S = ROOT.resolve("deploy/k8s");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int GATEWAY_PORT = 9099;
    /** Metric names in a PromQL expression: the gateway's own and the JVM's (labels never start so). */
    private static final Pattern METRIC = Pattern.compile("\\b((?:caravan|jvm|process|camel)_[a-zA-Z0-9_]+)");

    // ---------------------------------------------------------------------------------------------- parsing

    @Test
    void everyYamlAndJsonFileParses() throws IOException {
        List<Path> files = deployFiles();
        assertTrue(files.size() > 10, "found " + files);
        for (Path file : files) {
            if (file.toString().endsWith(".json")) {
                assertTrue(JSON.readTree(file.toFile()).isObject(), file + " is a JSON object");
            } else {
                List<JsonNode> documents = documents(file);
                assertFalse(documents.isEmpty(), file + " holds no YAML document");
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- compose

    @Test
    void composeServicesAndFilesReferToEachOther() throws IOException {
        JsonNode compose = single(DOCKER.resolve("compose.yaml"));
        JsonNode services = compose.path("services");
        for (String name : List.of("caravan", "ollama", "redis", "prometheus", "grafana")) {
            assertTrue(services.has(name), "compose service " + name);
        }
        Set<String> volumes = names(compose.path("volumes"));
        services.fields().forEachRemaining(service -> {
            for (JsonNode dependency : service.getValue().path("depends_on")) {
                assertTrue(services.has(dependency.asText()), service.getKey() + " depends on " + dependency);
            }
            for (JsonNode volume : service.getValue().path("volumes")) {
                String source = volume.asText().split(":")[0];
                if (source.startsWith(".")) {
                    assertTrue(Files.exists(DOCKER.resolve(source)), service.getKey() + " mounts " + source);
                } else {
                    assertTrue(volumes.contains(source), service.getKey() + " mounts the named volume " + source);
                }
            }
        });
        JsonNode gateway = services.path("caravan");
        Path context = DOCKER.resolve(gateway.path("build").path("context").asText()).normalize();
        assertEquals(ROOT, context);
        assertTrue(Files.isRegularFile(context.resolve(gateway.path("build").path("dockerfile").asText())));
        assertEquals("127.0.0.1:" + GATEWAY_PORT + ":" + GATEWAY_PORT, gateway.path("ports").get(0).asText());
        URI redis = URI.create(gateway.path("environment").path("REDIS_URL").asText());
        assertTrue(services.has(redis.getHost()), "REDIS_URL names the redis service: " + redis);
        assertEquals(6379, redis.getPort());
        assertTrue(gateway.path("volumes").get(0).asText().endsWith(":/app/gateway.yaml:ro"),
                "gateway.yaml where the image's working directory has it");

        // Prometheus scrapes the gateway's service at its port, on a path the gateway serves
        JsonNode scrape = single(DOCKER.resolve("prometheus.yml")).path("scrape_configs").get(0);
        assertEquals("caravan:" + GATEWAY_PORT, scrape.path("static_configs").get(0).path("targets").get(0).asText());
        assertTrue(gatewayPaths().contains(scrape.path("metrics_path").asText("/metrics")));

        // Grafana: the provisioned datasource is the compose Prometheus, the default one, which the dashboard's
        // datasource variable picks (so that the dashboard also imports into any other Grafana), and the
        // dashboard provider reads the folder compose mounts the dashboard into
        JsonNode datasource = single(DOCKER.resolve("grafana/provisioning/datasources/prometheus.yaml"))
                .path("datasources").get(0);
        URI prometheus = URI.create(datasource.path("url").asText());
        assertTrue(services.has(prometheus.getHost()));
        assertEquals(9090, prometheus.getPort());
        assertEquals("prometheus", datasource.path("type").asText());
        assertTrue(datasource.path("isDefault").asBoolean());
        JsonNode dashboard = JSON.readTree(DOCKER.resolve("grafana/caravan-dashboard.json").toFile());
        JsonNode variable = dashboard.path("templating").path("list").get(0);
        assertEquals("datasource", variable.path("type").asText());
        assertEquals("prometheus", variable.path("query").asText());
        String uid = "${" + variable.path("name").asText() + "}";
        for (JsonNode panel : dashboard.path("panels")) {
            assertEquals(uid, panel.path("datasource").path("uid").asText(), panel.path("title").asText());
            assertTrue(panel.path("targets").size() > 0, panel.path("title").asText());
            panel.path("targets").forEach(t -> assertEquals(uid, t.path("datasource").path("uid").asText()));
        }
        String dashboards = single(DOCKER.resolve("grafana/provisioning/dashboards/caravan.yaml"))
                .path("providers").get(0).path("options").path("path").asText();
        List<String> grafanaMounts = new ArrayList<>();
        services.path("grafana").path("volumes").forEach(v -> grafanaMounts.add(v.asText()));
        assertTrue(grafanaMounts.contains("./grafana/caravan-dashboard.json:" + dashboards
                + "/caravan-dashboard.json:ro"), grafanaMounts.toString());
        assertTrue(grafanaMounts.contains("./grafana/provisioning:/etc/grafana/provisioning:ro"));
    }

    @Test
    void theBuildContextCarriesWhatTheDockerfileCopies() throws IOException {
        List<String> kept = Files.readAllLines(DOCKER.resolve("Dockerfile.dockerignore")).stream()
                .filter(l -> l.startsWith("!")).map(l -> l.substring(1)).toList();
        Matcher copy = Pattern.compile("(?m)^COPY (?!--from)(?:--\\S+\\s+)*(\\S+)\\s+\\S+$")
                .matcher(Files.readString(DOCKER.resolve("Dockerfile")));
        int copies = 0;
        while (copy.find()) {
            String source = copy.group(1);
            assertTrue(Files.exists(ROOT.resolve(source)), source);
            assertTrue(kept.stream().anyMatch(k -> source.equals(k) || source.startsWith(k + "/")),
                    source + " is sent to the build (docker/Dockerfile.dockerignore)");
            copies++;
        }
        assertTrue(copies >= 4, "COPY instructions found: " + copies);
    }

    @Test
    void dockerComposeConfigAcceptsTheComposeFile() throws Exception {
        Path docker = onPath("docker");
        assumeTrue(docker != null && run(docker.toString(), "compose", "version") == 0,
                "the docker compose CLI is not installed: `docker compose config` not run");
        assertEquals(0, run(docker.toString(), "compose", "-f", DOCKER.resolve("compose.yaml").toString(), "config",
                "--quiet"));
    }

    // ---------------------------------------------------------------------------------------------- kubernetes

    @Test
    void kubernetesObjectsReferToEachOther() throws IOException {
        Cluster cluster = Cluster.load();
        JsonNode deployment = cluster.get("Deployment", "caravan");
        JsonNode spec = deployment.path("spec");
        JsonNode pod = spec.path("template");
        assertEquals(2, spec.path("replicas").asInt());
        assertLabelsMatch(spec.path("selector").path("matchLabels"), pod.path("metadata").path("labels"), "Deployment");

        JsonNode container = gatewayContainer(deployment);
        assertTrue(container.path("command").isMissingNode(), "the image's ENTRYPOINT starts the gateway");
        assertEquals(GATEWAY_PORT, containerPort(container, "http"));
        Map<String, String> env = env(container);
        assertFalse(env.containsKey("PORT"), "the gateway listens on its default port, the one the probes use");

        // Service and PodDisruptionBudget select the gateway's pods (and not Redis's), on the gateway's port
        JsonNode service = cluster.get("Service", "caravan");
        assertLabelsMatch(service.path("spec").path("selector"), pod.path("metadata").path("labels"), "Service");
        JsonNode servicePort = service.path("spec").path("ports").get(0);
        assertEquals(GATEWAY_PORT, servicePort.path("port").asInt());
        assertEquals(GATEWAY_PORT, containerPort(container, servicePort.path("targetPort").asText()));
        JsonNode pdb = cluster.get("PodDisruptionBudget", "caravan");
        assertLabelsMatch(pdb.path("spec").path("selector").path("matchLabels"), pod.path("metadata").path("labels"),
                "PodDisruptionBudget");
        assertTrue(pdb.path("spec").path("minAvailable").asInt() < spec.path("replicas").asInt(),
                "a node drain can still move a pod");

        // one Redis both replicas share: REDIS_URL names its Service, which selects the Redis pod
        JsonNode redis = cluster.get("Deployment", "caravan-redis");
        JsonNode redisService = cluster.get("Service", "caravan-redis");
        JsonNode redisPod = redis.path("spec").path("template");
        assertEquals(1, redis.path("spec").path("replicas").asInt());
        assertLabelsMatch(redis.path("spec").path("selector").path("matchLabels"), redisPod.path("metadata")
                .path("labels"), "Redis Deployment");
        assertLabelsMatch(redisService.path("spec").path("selector"), redisPod.path("metadata").path("labels"),
                "Redis Service");
        assertNotEquals(redisPod.path("metadata").path("labels"), pod.path("metadata").path("labels"),
                "the gateway's selectors do not take the Redis pod");
        URI redisUrl = URI.create(env.get("REDIS_URL"));
        assertEquals(redisService.path("metadata").path("name").asText(), redisUrl.getHost());
        assertEquals(redisService.path("spec").path("ports").get(0).path("port").asInt(), redisUrl.getPort());

        // volumes: ConfigMaps and Secrets that exist; the paths the gateway reads are where they are mounted
        Map<String, String> mounts = new HashMap<>();
        container.path("volumeMounts").forEach(m -> mounts.put(m.path("name").asText(), m.path("mountPath").asText()));
        for (JsonNode volume : pod.path("spec").path("volumes")) {
            assertTrue(mounts.containsKey(volume.path("name").asText()), "volume " + volume + " is mounted");
            if (volume.has("configMap")) {
                assertNotNull(cluster.configMap(volume.path("configMap").path("name").asText()), volume.toString());
            }
        }
        for (JsonNode source : container.path("envFrom")) {
            assertNotNull(cluster.get("Secret", source.path("secretRef").path("name").asText()));
        }
        Path gatewayYaml = Path.of(env.get("GATEWAY_CONFIG"));
        assertEquals(mounts.get("config"), gatewayYaml.getParent().toString());
        assertTrue(cluster.configMap(configMapOf(pod, "config")).containsKey(gatewayYaml.getFileName().toString()));
        assertEquals(mounts.get("routes"), env.get("ROUTES_DIR"));
        assertEquals(mounts.get("pipelines"), env.get("PIPELINES_DIR"));
        assertTrue(cluster.configMap(configMapOf(pod, "routes")).keySet().stream()
                .allMatch(k -> k.endsWith(".camel.yaml")));

        // probes on gateway endpoints and the gateway's port; a stop that drains before the kubelet kills
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            JsonNode get = container.path(probe).path("httpGet");
            assertTrue(gatewayPaths().contains(get.path("path").asText()), probe + " " + get);
            assertEquals(GATEWAY_PORT, containerPort(container, get.path("port").asText()), probe);
        }
        assertEquals("/health", container.path("livenessProbe").path("httpGet").path("path").asText());
        assertEquals("/health/ready", container.path("readinessProbe").path("httpGet").path("path").asText());
        JsonNode preStop = container.path("lifecycle").path("preStop").path("exec").path("command");
        assertEquals("sleep", preStop.get(0).asText());
        int drain = Integer.parseInt(env.get("DRAIN_GRACE_SECONDS"));
        int grace = pod.path("spec").path("terminationGracePeriodSeconds").asInt();
        assertTrue(grace >= preStop.get(1).asInt() + drain + 10,
                "terminationGracePeriodSeconds " + grace + " leaves the drain its time");

        // non-root, as the image's user; memory limited (the heap follows it)
        JsonNode security = pod.path("spec").path("securityContext");
        assertTrue(security.path("runAsNonRoot").asBoolean());
        assertEquals(Dockerfile.read().user(), security.path("runAsUser").asText() + ":"
                + security.path("runAsGroup").asText());
        assertFalse(container.path("securityContext").path("allowPrivilegeEscalation").asBoolean(true));
        assertTrue(container.path("resources").path("limits").has("memory"));
        assertTrue(container.path("resources").path("requests").has("memory"));
    }

    @Test
    void theRoutesConfigMapCarriesTheRepositorysRoutes() throws IOException {
        // routes and jar go together: a route may name a bean only this version of the jar has
        Map<String, String> deployed = Cluster.load().configMap("caravan-routes");
        Map<String, String> repository = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(ROOT.resolve("routes"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".camel.yaml")).sorted().toList()) {
                repository.put(file.getFileName().toString(), Files.readString(file));
            }
        }
        assertEquals(repository.keySet(), deployed.keySet(), "deploy/k8s/routes/ and the caravan-routes list of"
                + " deploy/k8s/kustomization.yaml hold the files of routes/");
        for (Map.Entry<String, String> route : repository.entrySet()) {
            assertEquals(route.getValue(), deployed.get(route.getKey()), "deploy/k8s/routes/" + route.getKey()
                    + " differs from routes/: cp routes/*.camel.yaml deploy/k8s/routes/");
        }
    }

    @Test
    void kustomizeBuildsTheObjectsTheGatewayPodNames() throws Exception {
        Path kubectl = onPath("kubectl");
        assumeTrue(kubectl != null, "kubectl is not installed: `kubectl kustomize` not run");
        Process build = new ProcessBuilder(kubectl.toString(), "kustomize", K8S.toString()).redirectErrorStream(false)
                .start();
        String output = new String(build.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        String errors = new String(build.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(build.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, build.exitValue(), errors);
        Map<String, JsonNode> built = new LinkedHashMap<>();
        try (JsonParser parser = YAML.getFactory().createParser(output)) {
            while (parser.nextToken() != null) {
                JsonNode object = YAML.readTree(parser);
                built.put(object.path("kind").asText() + "/" + object.path("metadata").path("name").asText(), object);
            }
        }
        JsonNode deployment = built.get("Deployment/caravan");
        assertNotNull(deployment, built.keySet().toString());
        // the generated ConfigMaps (routes under a name with its content's hash) are the ones the pod mounts
        for (JsonNode volume : deployment.path("spec").path("template").path("spec").path("volumes")) {
            if (volume.has("configMap")) {
                String name = volume.path("configMap").path("name").asText();
                assertTrue(built.containsKey("ConfigMap/" + name), volume + " in " + built.keySet());
            }
        }
        assertTrue(built.keySet().stream().anyMatch(k -> k.matches("ConfigMap/caravan-routes-[a-z0-9]+")),
                built.keySet().toString());
        assertTrue(built.containsKey("ConfigMap/caravan-config"), "gateway.yaml keeps its name: edits reach the pods");
    }

    // ---------------------------------------------------------------------------------------------- dashboard

    @Test
    void theDashboardQueriesOnlyMetricsTheGatewayExposes() throws IOException {
        Set<String> queried = new TreeSet<>();
        JsonNode dashboard = JSON.readTree(DOCKER.resolve("grafana/caravan-dashboard.json").toFile());
        for (JsonNode panel : dashboard.path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                Matcher metric = METRIC.matcher(target.path("expr").asText());
                boolean any = false;
                while (metric.find()) {
                    queried.add(metric.group(1));
                    any = true;
                }
                assertTrue(any, "a metric in " + target.path("expr").asText());
            }
        }
        try (GatewayInstance gateway = GatewayInstance.startDefault()) {
            String chat = "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
            assertEquals(200, gateway.postJson("/v1/chat/completions", chat.formatted("caravan-echo")).statusCode());
            assertEquals(404, gateway.postJson("/v1/chat/completions", chat.formatted("no-such-model")).statusCode());
            HttpResponse<String> metrics = gateway.get("/metrics");
            assertEquals(200, metrics.statusCode());
            Set<String> exposed = new TreeSet<>();
            metrics.body().lines().filter(l -> !l.startsWith("#") && !l.isBlank())
                    .forEach(l -> exposed.add(l.split("[{ ]", 2)[0]));
            Set<String> missing = new TreeSet<>(queried);
            missing.removeAll(exposed);
            assertTrue(missing.isEmpty(), "the dashboard queries " + missing + ", which /metrics does not expose: "
                    + exposed);
        }
    }

    // ---------------------------------------------------------------------------------------------- the image

    @Test
    void theImageStartCommandStartsTheGatewayFromTheImageLayout(@TempDir Path root) throws Exception {
        Dockerfile image = Dockerfile.read();
        Path workdir = image.layOut(root);
        Map<String, String> env = new HashMap<>(image.env());
        // what `docker run` changes: nothing but the ports, free ones here (and a small heap on a shared machine)
        int port = GatewayInstance.freePort();
        env.put("PORT", Integer.toString(port));
        env.put("MANAGEMENT_PORT", Integer.toString(GatewayInstance.freePort()));
        env.put("JAVA_TOOL_OPTIONS", "-Xmx256m");
        try (Child gateway = Child.start(image.command(root), workdir, env)) {
            gateway.awaitStatus("/health/ready", 200);
            assertTrue(gateway.get("/health").body().contains("\"local\""), "the embedded default, no gateway.yaml");
            HttpResponse<String> chat = gateway.post("/v1/chat/completions",
                    "{\"model\":\"caravan-echo\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", null);
            assertEquals(200, chat.statusCode(), chat.body());

            // the image's HEALTHCHECK, as Docker runs it inside the container
            assertEquals("/health/ready", image.healthCheckPath());
            assertEquals(0, healthCheck(image, port), "HEALTHCHECK against a ready gateway");
            assertNotEquals(0, healthCheck(image, GatewayInstance.freePort()), "HEALTHCHECK against no gateway");

            // the routes it runs are the working directory's routes/ (watched), not the copies in the jar
            Path probe = workdir.resolve("routes/99-deploy-probe.camel.yaml");
            Files.writeString(probe, """
                    - route:
                        id: deploy-probe
                        from:
                          uri: platform-http:/deploy-probe
                          steps:
                            - setBody: {constant: from the working directory}
                    """);
            Await.value("the route dropped into routes/", () -> gateway.get("/deploy-probe"),
                    r -> r.statusCode() == 200 && r.body().equals("from the working directory"),
                    Duration.ofSeconds(30));
        }
    }

    @Test
    void theKubernetesPodStartsTheGatewayWithItsEnvironmentAndVolumes(@TempDir Path root) throws Exception {
        Cluster cluster = Cluster.load();
        Dockerfile image = Dockerfile.read();
        Path workdir = image.layOut(root);
        JsonNode deployment = cluster.get("Deployment", "caravan");
        JsonNode container = gatewayContainer(deployment);
        JsonNode pod = deployment.path("spec").path("template");

        // the pod's volumes, as the kubelet lays out a ConfigMap: files behind ..data symlinks
        Map<String, JsonNode> volumes = new HashMap<>();
        pod.path("spec").path("volumes").forEach(v -> volumes.put(v.path("name").asText(), v));
        for (JsonNode mount : container.path("volumeMounts")) {
            Path at = under(root, mount.path("mountPath").asText());
            deleteTree(at);
            JsonNode volume = volumes.get(mount.path("name").asText());
            if (volume.has("configMap")) {
                kubeletConfigMap(at, cluster.configMap(volume.path("configMap").path("name").asText()));
            } else {
                Files.createDirectories(at);
            }
        }

        Map<String, String> env = new HashMap<>(image.env());
        for (JsonNode source : container.path("envFrom")) {
            cluster.get("Secret", source.path("secretRef").path("name").asText()).path("stringData").fields()
                    .forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
        }
        env(container).forEach((name, value) -> env.put(name, value.startsWith("/") ? under(root, value).toString()
                : value));
        try (RedisServer redis = RedisServer.start()) {
            env.put("REDIS_URL", redis.url());
            int port = GatewayInstance.freePort();
            env.put("PORT", Integer.toString(port));
            env.put("MANAGEMENT_PORT", Integer.toString(GatewayInstance.freePort()));
            env.put("JAVA_TOOL_OPTIONS", "-Xmx256m");
            env.put("DRAIN_GRACE_SECONDS", "5");
            try (Child gateway = Child.start(image.command(root), workdir, env)) {
                for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
                    gateway.awaitStatus(container.path(probe).path("httpGet").path("path").asText(), 200);
                }
                String apiKey = JSON.readTree(env.get("API_KEYS_JSON")).get(0).path("key").asText();
                String chat = "{\"model\":\"caravan-echo\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
                assertEquals(401, gateway.post("/v1/chat/completions", chat, null).statusCode(),
                        "the Secret's keys turn auth on");
                HttpResponse<String> answer = gateway.post("/v1/chat/completions", chat, apiKey);
                assertEquals(200, answer.statusCode(), answer.body());
                HttpResponse<String> health = gateway.get("/health", env.get("ADMIN_API_KEY"));
                assertTrue(health.body().contains("\"gpu\"") && health.body().contains("\"echo\""),
                        "the ConfigMap's gateway.yaml: " + health.body());
                assertTrue(health.body().contains("redis"), "the shared Redis: " + health.body());
                assertTrue(health.body().startsWith("{\"status\":\"ok\""), "Redis answers, no route refused: "
                        + health.body());

                // `kubectl apply -k` after an edit of gateway.yaml: the kubelet swaps ..data, the gateway reloads
                Path config = under(root, env(container).get("GATEWAY_CONFIG"));
                String edited = Files.readString(config) + "  k8s-edited:\n    backend: echo\n"
                        + "    upstream-model: caravan-echo\n";
                kubeletUpdate(config.getParent(), Map.of(config.getFileName().toString(), edited));
                Await.value("the edited gateway.yaml in force", () -> gateway.get("/v1/models", apiKey),
                        r -> r.statusCode() == 200 && r.body().contains("\"k8s-edited\""), Duration.ofSeconds(30));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- helpers

    private static Path onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir, command);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private static int run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail(String.join(" ", command) + " did not end");
        }
        return process.exitValue();
    }

    private static int healthCheck(Dockerfile image, int port) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(image.healthCheck()).redirectErrorStream(true);
        builder.environment().put("PORT", Integer.toString(port));
        Process check = builder.start();
        if (!check.waitFor(10, TimeUnit.SECONDS)) {
            check.destroyForcibly();
            fail("the HEALTHCHECK command did not end");
        }
        return check.exitValue();
    }

    /** What the kubelet makes of a ConfigMap volume: ..data → a timestamped folder, each key a link through it. */
    private static void kubeletConfigMap(Path at, Map<String, String> data) throws IOException {
        Path version = Files.createDirectories(at.resolve("..2026_01_01_00_00_00.000000001"));
        for (Map.Entry<String, String> file : data.entrySet()) {
            Files.writeString(version.resolve(file.getKey()), file.getValue());
        }
        Files.createSymbolicLink(at.resolve("..data"), version.getFileName());
        for (String key : data.keySet()) {
            Files.createSymbolicLink(at.resolve(key), Path.of("..data", key));
        }
    }

    /** The kubelet's update of a ConfigMap volume: a new timestamped folder, then ..data swapped to it at once. */
    private static void kubeletUpdate(Path at, Map<String, String> data) throws IOException {
        Path version = Files.createDirectories(at.resolve("..2026_01_01_00_00_01.000000002"));
        for (Map.Entry<String, String> file : data.entrySet()) {
            Files.writeString(version.resolve(file.getKey()), file.getValue());
        }
        Path next = Files.createSymbolicLink(at.resolve("..data_tmp"), version.getFileName());
        Files.move(next, at.resolve("..data"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static Path under(Path root, String absolute) {
        return root.resolve(absolute.substring(1));
    }

    private static void deleteTree(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> files = Files.walk(path)) {
            for (Path file : files.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.delete(file);
            }
        }
    }

    private static JsonNode gatewayContainer(JsonNode deployment) {
        return deployment.path("spec").path("template").path("spec").path("containers").get(0);
    }

    private static String configMapOf(JsonNode pod, String volume) {
        for (JsonNode v : pod.path("spec").path("volumes")) {
            if (v.path("name").asText().equals(volume)) {
                return v.path("configMap").path("name").asText();
            }
        }
        throw new AssertionError("no volume " + volume);
    }

    private static int containerPort(JsonNode container, String nameOrNumber) {
        for (JsonNode port : container.path("ports")) {
            if (port.path("name").asText().equals(nameOrNumber)
                    || port.path("containerPort").asText().equals(nameOrNumber)) {
                return port.path("containerPort").asInt();
            }
        }
        throw new AssertionError("no container port " + nameOrNumber);
    }

    private static Map<String, String> env(JsonNode container) {
        Map<String, String> env = new LinkedHashMap<>();
        container.path("env").forEach(e -> env.put(e.path("name").asText(), e.path("value").asText()));
        return env;
    }

    private static void assertLabelsMatch(JsonNode selector, JsonNode labels, String what) {
        assertTrue(selector.size() > 0, what + " selects by some label");
        selector.fields().forEachRemaining(l -> assertEquals(l.getValue().asText(), labels.path(l.getKey()).asText(),
                what + " selector " + l.getKey()));
    }

    private static Set<String> names(JsonNode object) {
        Set<String> names = new TreeSet<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** The paths of the gateway's platform-http endpoints, from the routes it ships. */
    private static Set<String> gatewayPaths() throws IOException {
        Set<String> paths = new TreeSet<>();
        try (Stream<Path> files = Files.list(ROOT.resolve("routes"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".camel.yaml")).toList()) {
                for (JsonNode document : documents(file)) {
                    for (JsonNode entry : document) {
                        String uri = entry.path("route").path("from").path("uri").asText();
                        if (uri.startsWith("platform-http:")) {
                            paths.add(uri.substring("platform-http:".length()));
                        }
                    }
                }
            }
        }
        return paths;
    }

    private static List<Path> deployFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path folder : List.of(DOCKER, ROOT.resolve("deploy"))) {
            try (Stream<Path> walk = Files.walk(folder)) {
                walk.filter(f -> f.toString().matches(".*\\.(ya?ml|json)$")).sorted().forEach(files::add);
            }
        }
        return files;
    }

    /** Every document of a YAML file (several when separated by ---), empty ones left out. */
    static List<JsonNode> documents(Path file) throws IOException {
        List<JsonNode> documents = new ArrayList<>();
        // a parser, not readValues: a MappingIterator would unwrap a document that is a list (a routes file)
        try (JsonParser parser = YAML.getFactory().createParser(file.toFile())) {
            while (parser.nextToken() != null) {
                JsonNode document = YAML.readTree(parser);
                if (document != null && !document.isNull() && !document.isMissingNode()) {
                    documents.add(document);
                }
            }
        }
        return documents;
    }

    private static JsonNode single(Path file) throws IOException {
        List<JsonNode> documents = documents(file);
        assertEquals(1, documents.size(), file.toString());
        return documents.get(0);
    }

    /** The objects `kubectl apply -k deploy/k8s` creates: its resources, and the ConfigMaps it generates. */
    private record Cluster(Map<String, JsonNode> objects, Map<String, Map<String, String>> generated) {

        static Cluster load() throws IOException {
            JsonNode kustomization = single(K8S.resolve("kustomization.yaml"));
            Map<String, JsonNode> objects = new LinkedHashMap<>();
            for (JsonNode resource : kustomization.path("resources")) {
                for (JsonNode object : documents(K8S.resolve(resource.asText()))) {
                    String key = object.path("kind").asText() + "/" + object.path("metadata").path("name").asText();
                    assertNotNull(object.path("apiVersion").textValue(), key + " has an apiVersion");
                    assertFalse(objects.containsKey(key), key + " is declared once");
                    objects.put(key, object);
                }
            }
            Map<String, Map<String, String>> generated = new LinkedHashMap<>();
            for (JsonNode generator : kustomization.path("configMapGenerator")) {
                Map<String, String> data = new LinkedHashMap<>();
                for (JsonNode file : generator.path("files")) {
                    Path path = K8S.resolve(file.asText()).normalize();
                    assertTrue(path.startsWith(K8S), "kustomize loads no file outside its folder: " + file);
                    data.put(path.getFileName().toString(), Files.readString(path));
                }
                generated.put(generator.path("name").asText(), data);
            }
            return new Cluster(objects, generated);
        }

        JsonNode get(String kind, String name) {
            JsonNode object = objects.get(kind + "/" + name);
            assertNotNull(object, kind + " " + name + " in deploy/k8s");
            return object;
        }

        Map<String, String> configMap(String name) {
            if (generated.containsKey(name)) {
                return generated.get(name);
            }
            JsonNode object = objects.get("ConfigMap/" + name);
            if (object == null) {
                return null;
            }
            Map<String, String> data = new LinkedHashMap<>();
            object.path("data").fields().forEachRemaining(e -> data.put(e.getKey(), e.getValue().asText()));
            return data;
        }
    }

    /** The final stage of docker/Dockerfile: what it copies where, its user, environment, start and health check. */
    private record Dockerfile(String workdir, List<String[]> copies, String user, Map<String, String> env,
                              List<String> entrypoint, List<String> healthCheck) {

        static Dockerfile read() throws IOException {
            String text = Files.readString(DOCKER.resolve("Dockerfile")).replaceAll("\\\\\\n", " ");
            List<String> stage = new ArrayList<>();
            for (String line : text.split("\n")) {
                String trimmed = line.strip();
                if (trimmed.startsWith("FROM ")) {
                    stage.clear();
                }
                if (!trimmed.isEmpty() && !trimmed.startsWith("#")) {
                    stage.add(trimmed);
                }
            }
            String workdir = "/";
            String user = "root";
            List<String[]> copies = new ArrayList<>();
            Map<String, String> env = new LinkedHashMap<>();
            List<String> entrypoint = null;
            List<String> healthCheck = null;
            for (String instruction : stage) {
                String[] parts = instruction.split("\\s+", 2);
                String args = parts.length > 1 ? parts[1] : "";
                switch (parts[0]) {
                    case "WORKDIR" -> workdir = args;
                    case "USER" -> user = args;
                    case "ENV" -> {
                        String[] kv = args.split("[= ]", 2);
                        env.put(kv[0], kv[1].replaceAll("^\"|\"$", ""));
                    }
                    case "COPY" -> {
                        List<String> words = new ArrayList<>(List.of(args.split("\\s+")));
                        String from = null;
                        while (words.get(0).startsWith("--")) {
                            String flag = words.remove(0);
                            if (flag.startsWith("--from=")) {
                                from = flag.substring("--from=".length());
                            }
                        }
                        copies.add(new String[] {from, words.get(0), words.get(1)});
                    }
                    case "ENTRYPOINT" -> entrypoint = jsonArray(args);
                    case "CMD" -> assertTrue(entrypoint != null, "the start command is an exec-form ENTRYPOINT");
                    case "HEALTHCHECK" -> healthCheck = jsonArray(args.substring(args.indexOf("CMD ") + 4));
                    default -> {
                    }
                }
            }
            assertNotNull(entrypoint, "an exec-form ENTRYPOINT (java is PID 1 and gets SIGTERM)");
            assertNotNull(healthCheck, "a HEALTHCHECK");
            assertTrue(user.matches("\\d+:\\d+") && !user.startsWith("0:"), "a numeric non-root USER: " + user);
            return new Dockerfile(workdir, copies, user, env, entrypoint, healthCheck);
        }

        private static List<String> jsonArray(String text) {
            try {
                List<String> words = new ArrayList<>();
                JSON.readTree(text).forEach(w -> words.add(w.asText()));
                return words;
            } catch (IOException e) {
                throw new AssertionError("not a JSON array (exec form): " + text, e);
            }
        }

        /** Copies what the image copies, under root as its /; returns the working directory there. */
        Path layOut(Path root) throws IOException {
            for (String[] copy : copies) {
                Path target = under(root, copy[2]);
                if (copy[0] != null) {
                    // the build stage's jar: run below from the classes it is made of
                    assertTrue(copy[1].endsWith("target/caravan.jar"), "the build stage's output: " + copy[1]);
                    continue;
                }
                Path source = ROOT.resolve(copy[1]);
                if (Files.isDirectory(source)) {
                    try (Stream<Path> walk = Files.walk(source)) {
                        for (Path file : walk.toList()) {
                            Path to = target.resolve(source.relativize(file).toString());
                            if (Files.isDirectory(file)) {
                                Files.createDirectories(to);
                            } else {
                                Files.copy(file, to);
                            }
                        }
                    }
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(source, target);
                }
            }
            return Files.createDirectories(under(root, workdir));
        }

        /**
         * The ENTRYPOINT with this JVM for "java" and, for "-jar caravan.jar", the classes and main class the jar is
         * made of (the shaded jar is built after the tests run): every flag and the working directory are the image's.
         */
        List<String> command(Path root) throws IOException {
            String jar = copies.stream().filter(c -> c[0] != null).map(c -> c[2]).findFirst().orElseThrow();
            assertTrue(Files.readString(ROOT.resolve("pom.xml")).contains("<mainClass>" + CaravanMain.class.getName()
                    + "</mainClass>"), "the jar's Main-Class");
            List<String> command = new ArrayList<>();
            for (int i = 0; i < entrypoint.size(); i++) {
                String word = entrypoint.get(i);
                if (i == 0) {
                    assertEquals("java", word);
                    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
                } else if (word.equals("-jar")) {
                    assertEquals(jar, entrypoint.get(++i), "the jar the image copies");
                    command.addAll(List.of("-cp", System.getProperty("java.class.path"), CaravanMain.class.getName()));
                } else {
                    command.add(word);
                }
            }
            assertTrue(command.stream().anyMatch(w -> w.startsWith("-XX:MaxRAMPercentage=")),
                    "the heap follows the container's memory");
            assertTrue(command.contains("-XX:+ExitOnOutOfMemoryError"));
            return command;
        }

        String healthCheckPath() {
            Matcher path = Pattern.compile("GET (\\S+) HTTP").matcher(String.join(" ", healthCheck));
            assertTrue(path.find(), "the HEALTHCHECK's request: " + healthCheck);
            return path.group(1);
        }
    }

    /** The gateway in a child JVM, with exactly this environment and working directory. */
    private static final class Child implements AutoCloseable {
        private final Process process;
        private final Path log;
        private final int port;
        private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();

        private Child(Process process, Path log, int port) {
            this.process = process;
            this.log = log;
            this.port = port;
        }

        static Child start(List<String> command, Path workdir, Map<String, String> env) throws IOException {
            Path log = Files.createTempFile("caravan-deploy", ".log");
            ProcessBuilder builder = new ProcessBuilder(command).directory(workdir.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            builder.environment().clear();
            builder.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
            builder.environment().putAll(env);
            return new Child(builder.start(), log, Integer.parseInt(env.get("PORT")));
        }

        void awaitStatus(String path, int status) {
            Await.value("GET " + path + " " + status, () -> {
                if (!process.isAlive()) {
                    fail("the gateway exited with " + process.exitValue() + ":\n" + readLog());
                }
                try {
                    return get(path);
                } catch (IllegalStateException notYet) {
                    return null;
                }
            }, r -> r != null && r.statusCode() == status, Duration.ofSeconds(60));
        }

        HttpResponse<String> get(String path) {
            return get(path, null);
        }

        HttpResponse<String> get(String path, String key) {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET();
            return send(key == null ? request : request.header("Authorization", "Bearer " + key));
        }

        HttpResponse<String> post(String path, String json, String key) {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
            return send(key == null ? request : request.header("Authorization", "Bearer " + key));
        }

        private HttpResponse<String> send(HttpRequest.Builder request) {
            try {
                return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        private String readLog() {
            try {
                return Files.readString(log);
            } catch (IOException e) {
                return e.toString();
            }
        }

        @Override
        public void close() throws Exception {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
            Files.deleteIfExists(log);
        }
    }
}
