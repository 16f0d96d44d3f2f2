package dev.caravan.backend;

import java.net.http.HttpResponse;

import dev.caravan.support.Calls;
import dev.caravan.support.EmulatedGateway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An upstream reply read whole into memory (a non-streamed completion) has a ceiling, MAX_UPSTREAM_REPLY_BYTES
 * (64 KiB here): beyond it the client gets 502 upstream_reply_too_large, in each dialect, instead of the gateway
 * buffering without bound; replies under it pass as before. Of an upstream error body only the first 64 KiB are read.
 */
class UpstreamReplyCapTest {

    @RegisterExtension
    static final EmulatedGateway env = EmulatedGateway.withConfig(url -> """
            backends:
              vllm: {type: openai, url: "%s"}
              gpu: {type: ollama, url: "%s"}
              tgi: {type: tgi, url: "%s"}
            models:
              gpt-emu: {backend: vllm}
              llama: {backend: gpu}
              tgi-emu: {backend: tgi}
            """.formatted(url, url, url))
            .property("gateway.max-upstream-reply-bytes", "65536");

    @Test
    void aReplyOverTheCapIs502AndOneUnderItPasses() {
        for (String model : new String[] {"gpt-emu", "llama", "tgi-emu"}) {
            // about 120 KB of content in 600 tokens (TGI stops at 512 by default: still over 64 KiB)
            env.upstream().reply(("w".repeat(199) + " ").repeat(600));
            HttpResponse<String> big = Calls.chat(env.gateway(), model);
            assertEquals(502, big.statusCode(), model + ": " + big.body());
            assertEquals("upstream_reply_too_large", Calls.errorCode(big), model);
            assertTrue(big.body().contains("MAX_UPSTREAM_REPLY_BYTES"), big.body());
            assertEquals(1, env.upstream().requests(), model + ": not retried, the same request brings the same reply");
            env.upstream().reset();

            env.upstream().reply("word ".repeat(1_000));
            HttpResponse<String> small = Calls.chat(env.gateway(), model);
            assertEquals(200, small.statusCode(), model + ": " + small.body());
            env.upstream().reset();
        }
    }

    @Test
    void anUpstreamErrorBodyIsReadOnlyInPart() {
        env.upstream().failNext(1, 400).failMessage("x".repeat(1024 * 1024)); // a 1 MiB error message
        HttpResponse<String> response = Calls.chat(env.gateway(), "gpt-emu");
        assertEquals(400, response.statusCode(), response.body().substring(0, 200));
        assertTrue(response.body().length() < 70_000, "not relayed whole: " + response.body().length() + " chars");
    }
}
