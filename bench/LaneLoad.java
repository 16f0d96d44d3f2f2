import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The lane at work: CLIENTS concurrent clients, each sending REQUESTS chat requests one after the other
 * through the gateway to a slow upstream. Prints the outcome of every request by status. JDK only.
 * Usage: java bench/LaneLoad.java <gateway base url> <model> <clients> <requests per client>
 */
public class LaneLoad {

    public static void main(String[] args) throws Exception {
        String base = args[0];
        String model = args[1];
        int clients = Integer.parseInt(args[2]);
        int perClient = Integer.parseInt(args[3]);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        AtomicInteger failures = new AtomicInteger();
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + model
                        + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],\"max_tokens\":8}"))
                .build();
        long start = System.nanoTime();
        CompletableFuture<?>[] all = new CompletableFuture<?>[clients];
        for (int c = 0; c < clients; c++) {
            CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
            for (int r = 0; r < perClient; r++) {
                chain = chain.thenCompose(v -> http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
                        .handle((response, error) -> {
                            if (error != null) {
                                failures.incrementAndGet();
                            } else {
                                statuses.computeIfAbsent(response.statusCode(), s -> new AtomicInteger()).incrementAndGet();
                            }
                            return null;
                        }));
            }
            all[c] = chain;
        }
        CompletableFuture.allOf(all).join();
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<Integer, Integer> sorted = new TreeMap<>();
        statuses.forEach((status, count) -> sorted.put(status, count.get()));
        System.out.printf("requests=%d seconds=%.1f statuses=%s transport_errors=%d%n",
                clients * perClient, seconds, sorted, failures.get());
    }
}
