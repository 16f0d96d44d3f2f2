package dev.caravan.api;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import dev.caravan.support.Calls;
import dev.caravan.support.DefaultGateway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** HEAD works on every GET endpoint (issue 6 item 12): the GET's status and headers, and no body. */
class HeadRequestTest {

    @RegisterExtension
    static final DefaultGateway env = new DefaultGateway();

    @Test
    void headAnswersEveryGetEndpointWithItsHeadersAndNoBody() {
        HttpResponse<String> task = env.gateway().postJson("/tasks/enqueue", Calls.body("caravan-echo", "hello"));
        assertEquals(202, task.statusCode(), task.body());
        String taskId = Calls.json(task.body()).path("id").asText();
        // done before the gateway stops: a task still running at shutdown holds it for the whole shutdown timeout
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        String status = "";
        while (!status.equals("done") && System.nanoTime() - end < 0) {
            status = Calls.json(env.gateway().get("/tasks/" + taskId).body()).path("status").asText();
        }
        assertEquals("done", status);

        for (String path : List.of("/", "/v1", "/health", "/v1/health", "/health/ready", "/metrics", "/v1/models",
                "/models", "/v1/models/caravan-echo", "/models/caravan-echo", "/v1/lanes", "/tasks/" + taskId,
                "/tasks/dlq")) {
            HttpResponse<String> get = send(path, "GET");
            assertEquals(200, get.statusCode(), "GET " + path + ": " + get.body());
            HttpResponse<String> head = send(path, "HEAD");
            assertEquals(200, head.statusCode(), "HEAD " + path + ": " + head.body());
            assertEquals("", head.body(), "HEAD " + path + " has no body");
            assertEquals(get.headers().firstValue("content-type"), head.headers().firstValue("content-type"),
                    "HEAD " + path + " has the GET's content type");
            // HTTP/1.1, as curl and load balancers send HEAD
            HttpResponse<String> head11 = send(path, "HEAD", HttpClient.Version.HTTP_1_1);
            assertEquals(200, head11.statusCode(), "HEAD " + path + " over HTTP/1.1: " + head11.body());
            assertEquals("", head11.body(), "HEAD " + path + " over HTTP/1.1 has no body");
        }
    }

    /** With the JDK client's default (HTTP/2 over an h2c upgrade where the server takes it). */
    private static HttpResponse<String> send(String path, String method) {
        return send(path, method, HttpClient.Version.HTTP_2);
    }

    private static HttpResponse<String> send(String path, String method, HttpClient.Version version) {
        return env.gateway().send(HttpRequest.newBuilder(env.gateway().uri(path)).timeout(Duration.ofSeconds(10)).version(version)
                .method(method, HttpRequest.BodyPublishers.noBody()).build());
    }
}
