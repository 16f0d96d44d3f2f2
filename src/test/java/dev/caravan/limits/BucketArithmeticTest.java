package dev.caravan.limits;


import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.ApiKeys;
import dev.caravan.config.KeyConfig;
import dev.caravan.openai.Json;
import dev.caravan.openai.Operation;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bucket arithmetic on a clock the test moves (memory store; lua/token-buckets.lua is the same arithmetic
 * and runs in the HTTP tests), the limits a key gets, its token reservation and the reset durations.
 */
class BucketArithmeticTest {

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final MemoryBuckets buckets = new MemoryBuckets(nanos::get);

    private void advanceMillis(long millis) {
        nanos.addAndGet(millis * 1_000_000L);
    }

    @Test
    void theRequestBucketRefillsLazilyAndSaysHowLongToWait() {
        Limits limits = new Limits("k", "k", 2, 60, 0, 0); // burst 2, one a second
        assertTrue(take(limits, 0).allowed());
        Admission second = take(limits, 0);
        assertTrue(second.allowed());
        assertEquals(0, second.requestsLeft(), 1e-9);
        Admission third = take(limits, 0);
        assertEquals(Admission.Refusal.REQUESTS, third.refused());
        assertEquals(1000, third.waitMillis());
        advanceMillis(400);
        assertEquals(600, take(limits, 0).waitMillis());
        advanceMillis(600);
        assertTrue(take(limits, 0).allowed());
        advanceMillis(60_000);
        assertEquals(1, take(limits, 0).requestsLeft(), 1e-9); // never above the burst
    }

    @Test
    void aRefusedRequestTakesNothingFromEitherBucket() {
        Limits limits = new Limits("k", "k", 1, 60, 100, 100);
        assertTrue(take(limits, 90).allowed());
        Admission refusedForTokens = take(limits, 0 + 50);
        assertFalse(refusedForTokens.allowed()); // requests refuse first (none left), and tokens would too
        advanceMillis(1000); // a request back, ~1.7 tokens back
        Admission tokensShort = take(limits, 50);
        assertEquals(Admission.Refusal.TOKENS, tokensShort.refused());
        assertEquals(1, tokensShort.requestsLeft(), 1e-9); // the request was not taken
        assertTrue(take(limits, 5).allowed());
    }

    @Test
    void settlementGivesBackAndChargesButNeverAboveCapacity() {
        Limits limits = new Limits("k", "k", 0, 0, 1000, 1000);
        assertEquals(100, take(limits, 900).tokensLeft(), 1e-9);
        buckets.giveBack(limits, 880); // used 20 of 900
        assertEquals(980 - 0, take(limits, 0).tokensLeft(), 1e-9);
        buckets.giveBack(limits, 5000);
        assertEquals(1000, take(limits, 0).tokensLeft(), 1e-9);
        buckets.giveBack(limits, -1500); // used 1500 more than reserved: a debt
        Admission inDebt = take(limits, 10);
        assertEquals(Admission.Refusal.TOKENS, inDebt.refused());
        assertEquals(30_600, inDebt.waitMillis()); // from -500 to 10 at 1000 a minute
    }

    @Test
    void aReservationLargerThanTheBucketWaitsForAFullBucketNotForever() {
        Limits limits = new Limits("k", "k", 0, 0, 1000, 1000);
        Admission huge = take(limits, 5000);
        assertTrue(huge.allowed());
        assertEquals(-4000, huge.tokensLeft(), 1e-9);
        assertEquals(300_000, take(limits, 5000).waitMillis()); // back to full (1000) from -4000
    }

    @Test
    void keyLimitsAndTheirDefaults() {
        KeyLimits defaults = new KeyLimits(60, 0);
        Limits plain = defaults.of(entry(new KeyConfig("sk-1", "a", null, null, null, null, null)));
        assertEquals(60, plain.requestsPerMin());
        assertEquals(60, plain.requestCapacity()); // burst 0 = the per-minute rate
        assertFalse(plain.limitsTokens());
        Limits own = defaults.of(entry(new KeyConfig("sk-2", "b", null, 600, 5, 1000, null)));
        assertEquals(5, own.requestCapacity());
        assertEquals(600, own.requestsPerMin());
        assertEquals(1000, own.tokenCapacity());
        Limits unlimited = defaults.of(entry(new KeyConfig("sk-3", "c", null, 0, 5, null, null)));
        assertFalse(unlimited.any());
        assertEquals(10, new KeyLimits(60, 10).of(entry(new KeyConfig("sk-4", "d", null, null, null, null, null)))
                .requestCapacity());
        assertFalse(new KeyLimits(0, 0).anonymous().any());
        assertEquals(KeyLimits.ANONYMOUS, new KeyLimits(6, 0).anonymous().id());
    }

    @Test
    void theReservationIsThePromptPlusWhatTheCompletionMayTake() throws Exception {
        ObjectNode chat = (ObjectNode) Json.MAPPER.readTree(
                "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"12345678\"}],\"max_tokens\":100}");
        TokenReservation.Estimate estimate = TokenReservation.estimate(chat, Operation.CHAT, null, 1024, 32768);
        assertEquals(6, estimate.prompt()); // 4 a message + 8 characters / 4
        assertEquals(106, estimate.total());
        chat.remove("max_tokens");
        chat.put("max_completion_tokens", 50);
        chat.put("n", 2);
        assertEquals(106, TokenReservation.estimate(chat, Operation.CHAT, null, 1024, 32768).total());
        chat.remove("max_completion_tokens");
        assertEquals(6 + 2048, TokenReservation.estimate(chat, Operation.CHAT, null, 1024, 32768).total());
        ObjectNode embeddings = (ObjectNode) Json.MAPPER.readTree("{\"model\":\"e\",\"input\":[\"12345678\",\"1234\"]}");
        assertEquals(3, TokenReservation.estimate(embeddings, Operation.EMBEDDINGS, null, 1024, 32768).total());
    }

    @Test
    void resetDurationsAreWrittenAsOpenAiDoes() {
        assertEquals("0s", RateLimitHeaders.duration(0));
        assertEquals("120ms", RateLimitHeaders.duration(120));
        assertEquals("1s", RateLimitHeaders.duration(1000));
        assertEquals("1.5s", RateLimitHeaders.duration(1500));
        assertEquals("6m0s", RateLimitHeaders.duration(360_000));
        assertEquals("1m0.25s", RateLimitHeaders.duration(60_250));
        assertEquals("1h2m3s", RateLimitHeaders.duration(3_723_000));
    }

    private Admission take(Limits limits, long tokens) {
        return buckets.take(limits, tokens).result();
    }

    private static ApiKeys.Entry entry(KeyConfig key) {
        return new ApiKeys.Entry(key, new byte[32], "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    }

}
