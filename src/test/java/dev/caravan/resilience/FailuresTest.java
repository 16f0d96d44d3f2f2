package dev.caravan.resilience;

import java.net.ConnectException;
import java.net.SocketException;

import dev.caravan.backend.UpstreamErrors;
import dev.caravan.openai.OpenAiError;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.core.impl.NoStackTraceTimeoutException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What counts against an upstream's circuit, for failures as the upstream calls surface them (through
 * {@link UpstreamErrors}): the gateway's own local failures (no file handle, its pool full or a pooled connection
 * not had in time) and 429 quotas do not; an unreachable upstream and its 5xx do.
 */
class FailuresTest {

    @Test
    void localFailuresOfTheGatewayDoNotCount() {
        assertFalse(Failures.countsAgainstBackend(UpstreamErrors.ofFailure(
                new SocketException("Too many open files"))));
        assertFalse(Failures.countsAgainstBackend(UpstreamErrors.ofFailure(
                new io.vertx.core.VertxException(new SocketException("accept(..) failed: Too many open files")))));
        assertFalse(Failures.countsAgainstBackend(UpstreamErrors.ofFailure(
                new ConnectionPoolTooBusyException("Connection pool reached max wait queue size of 0"))));
        assertFalse(Failures.countsAgainstBackend(new OpenAiError(502, "upstream_error", "upstream_error", null,
                "pool", 0, new NoStackTraceTimeoutException(
                        "The timeout of 100 ms has been exceeded when getting a connection to 127.0.0.1:1"))));
        assertFalse(Failures.countsAgainstBackend(OpenAiError.internal("a bug of ours")));
    }

    @Test
    void quotasDoNotCountButUpstreamFailuresDo() {
        assertFalse(Failures.countsAgainstBackend(UpstreamErrors.ofStatus(429, "1", Buffer.buffer())));
        assertTrue(Failures.countsAgainstBackend(UpstreamErrors.ofStatus(500, Buffer.buffer())));
        assertTrue(Failures.countsAgainstBackend(UpstreamErrors.ofStatus(503, Buffer.buffer())));
        assertTrue(Failures.countsAgainstBackend(UpstreamErrors.ofFailure(new ConnectException("Connection refused"))));
        assertTrue(Failures.countsAgainstBackend(UpstreamErrors.ofFailure(new SocketException("Connection reset"))));
        assertFalse(Failures.countsAgainstBackend(UpstreamErrors.ofStatus(400, Buffer.buffer())));
    }
}
