package dev.caravan.steps;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import dev.caravan.support.GatewayInstance;
import dev.caravan.support.TestRoutes;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's Hook steps examples, copied as an operator would paste them: every YAML block of the section goes into
 * mid-hooks, and the gateway starts with each step's kamelet route built (a wrong parameter name or value in the
 * README would stop it).
 */
class ReadmeHookStepsTest {

    private static final Pattern YAML_BLOCK = Pattern.compile("```yaml\n(.*?)```", Pattern.DOTALL);
    private static final Pattern STEP = Pattern.compile("kamelet:([a-z-]+-action)");

    @Test
    void everyExampleBuilds() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int start = readme.indexOf("\n## Hook steps");
        String section = readme.substring(start, readme.indexOf("\n## ", start + 1));
        List<String> blocks = new ArrayList<>();
        Matcher block = YAML_BLOCK.matcher(section);
        while (block.find()) {
            // the steps of the block: from its first list item indented as a step, dedented
            List<String> lines = block.group(1).lines().toList();
            int first = 0;
            while (first < lines.size() && !lines.get(first).matches("\\s+- .*")) {
                first++;
            }
            blocks.add(lines.subList(first, lines.size()).stream().collect(Collectors.joining("\n")).stripIndent());
        }
        Set<String> steps = new TreeSet<>();
        Matcher step = STEP.matcher(String.join("\n", blocks));
        while (step.find()) {
            steps.add(step.group(1));
        }
        assertEquals(Set.of("call-out-action", "intent-action", "pii-redact-action", "policy-action",
                "sanitize-action", "set-params-action"), steps, "every step has an example");

        TestRoutes routes = TestRoutes.copy();
        for (String pasted : blocks) {
            routes.append("30-mid-hooks.camel.yaml", pasted);
        }
        try (GatewayInstance gateway = GatewayInstance.builder().routes(routes.dir()).start()) {
            for (String name : steps) {
                assertTrue(gateway.camel().getRoutes().stream().anyMatch(r -> r.getRouteId().startsWith(name + "-")),
                        name + " built");
            }
        }
    }
}
