package dev.caravan.api;

import java.io.IOException;

import dev.caravan.support.Calls;
import dev.caravan.support.DefaultGateway;
import dev.caravan.support.RawHttp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * With auth off (no keys at all) a web page the user visits must not drive the gateway: an Origin of another site
 * gets 403, a POST that is not JSON 415; the gateway's own origin (localhost and 127.0.0.1 alike) and non-browser
 * clients pass.
 */
class CrossSiteTest {

    @RegisterExtension
    static final DefaultGateway env = new DefaultGateway();

    @Test
    void anOriginOfAnotherSiteGets403() throws IOException {
        for (String origin : new String[] {"http://evil.example", "null", "http://localhost:1",
                "http://127.0.0.1.evil.example:" + env.gateway().port()}) {
            RawHttp.Response response = chat("application/json", "Origin: " + origin);
            assertEquals(403, response.status, origin + ": " + response.body);
            assertEquals("cross_site_request", Calls.json(response.body).at("/error/code").asText());
        }
        try (RawHttp http = RawHttp.connect(env.gateway().port())) {
            http.write("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:" + env.gateway().port()
                    + "\r\nOrigin: http://evil.example\r\nConnection: close\r\n\r\n");
            assertEquals(403, http.readAll().status);
        }
    }

    @Test
    void theGatewaysOwnOriginPasses() throws IOException {
        for (String origin : new String[] {"http://127.0.0.1:" + env.gateway().port(), "http://localhost:" + env.gateway().port()}) {
            RawHttp.Response response = chat("application/json", "Origin: " + origin);
            assertEquals(200, response.status, origin + ": " + response.body);
        }
    }

    @Test
    void aPostThatIsNotJsonGets415() throws IOException {
        for (String type : new String[] {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x"}) {
            RawHttp.Response response = chat(type);
            assertEquals(415, response.status, type + ": " + response.body);
            assertEquals("unsupported_media_type", Calls.json(response.body).at("/error/code").asText());
        }
        RawHttp.Response none = chat(null);
        assertEquals(415, none.status, none.body);
        assertEquals(200, chat("application/json; charset=utf-8").status);
    }

    private RawHttp.Response chat(String contentType, String... headers) throws IOException {
        byte[] body = Calls.body("caravan-echo", false).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (RawHttp http = RawHttp.post(env.gateway().port(), "/v1/chat/completions", contentType, body, headers)) {
            return http.readAll();
        }
    }
}
