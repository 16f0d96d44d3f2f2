package dev.caravan.observe;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.caravan.support.Calls;
import dev.caravan.support.EmulatedGateway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The model label of /metrics stays bounded: clients may send any id a prefix model lets through ("emu/<anything>"),
 * and each reaches the upstream, but only configured ids and ids the upstream lists become label values; the rest
 * count under model="other".
 */
class MetricLabelsTest {

    private static final Pattern MODEL_LABEL = Pattern.compile("model=\"([^\"]*)\"");
    private static final int INVENTED = 300;

    @RegisterExtension
    static final EmulatedGateway env = EmulatedGateway.withConfig(url -> """
            backends:
              emu: {type: openai, url: "%s"}
            models:
              known: {backend: emu}
              "emu/*": {backend: emu}
            """.formatted(url));

    @Test
    void inventedModelIdsCountAsOtherAndListedOnesKeepTheirLabel() throws Exception {
        assertEquals(200, Calls.chat(env.gateway(), "known").statusCode());
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        for (int i = 0; i < INVENTED; i++) {
            sent.add(Calls.chatAsync(env.gateway(), "emu/invented-" + i));
            if (sent.size() == 16) {
                for (CompletableFuture<HttpResponse<String>> call : sent) {
                    assertEquals(200, call.get(30, TimeUnit.SECONDS).statusCode());
                }
                sent.clear();
            }
        }
        for (CompletableFuture<HttpResponse<String>> call : sent) {
            assertEquals(200, call.get(30, TimeUnit.SECONDS).statusCode());
        }
        assertEquals(INVENTED + 1, env.upstream().requests(), "every invented id did reach the upstream");

        // the upstream lists emu-model and emu-model-2: once /v1/models has shown them, they are labels of their own
        assertEquals(200, Calls.chat(env.gateway(), "emu/emu-model").statusCode());
        assertEquals(Set.of("known", "other"), modelLabels(env.gateway().get("/metrics").body()));
        assertTrue(env.gateway().get("/v1/models").body().contains("emu/emu-model"));
        assertEquals(200, Calls.chat(env.gateway(), "emu/emu-model").statusCode());
        String metrics = env.gateway().get("/metrics").body();
        Set<String> labels = modelLabels(metrics);
        assertTrue(labels.contains("emu/emu-model"), "an upstream-listed id keeps its label: " + labels);
        assertEquals(Set.of("known", "emu/emu-model", "other"), labels, "no invented id became a label");
        assertTrue(requests(metrics, "other") >= INVENTED, metrics);
        assertTrue(metrics.length() < 200_000, "/metrics stays small: " + metrics.length() + " characters");
    }

    private static Set<String> modelLabels(String metrics) {
        Set<String> labels = new TreeSet<>();
        metrics.lines().filter(line -> line.startsWith("caravan_")).forEach(line -> {
            Matcher m = MODEL_LABEL.matcher(line);
            if (m.find()) {
                labels.add(m.group(1));
            }
        });
        return labels;
    }

    private static double requests(String metrics, String model) {
        return metrics.lines().filter(line -> line.startsWith("caravan_requests_total{")
                        && line.contains("model=\"" + model + "\""))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
    }
}
