package dev.caravan.resilience;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The backoff arithmetic: full jitter under a doubling ceiling, a cap, the attempt budget, retry-after. */
class RetryPolicyTest {

    private final RetryPolicy policy = new RetryPolicy(4, 200, 1000);

    @Test
    void theCeilingDoublesUpToTheCap() {
        assertEquals(200, policy.ceilingAfter(1));
        assertEquals(400, policy.ceilingAfter(2));
        assertEquals(800, policy.ceilingAfter(3));
        assertEquals(1000, policy.ceilingAfter(4));
        assertEquals(1000, policy.ceilingAfter(80), "no overflow however many attempts");
    }

    @Test
    void delaysAreSpreadOverTheWholeRangeBelowTheCeiling() {
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (int i = 0; i < 5000; i++) {
            long delay = policy.delayAfter(3, -1);
            assertTrue(delay >= 0 && delay <= 800, "within [0, 800]: " + delay);
            min = Math.min(min, delay);
            max = Math.max(max, delay);
        }
        assertTrue(min < 80 && max > 720, "full jitter covers the range: " + min + ".." + max);
    }

    @Test
    void theAttemptBudgetCountsTheFirstCall() {
        assertTrue(policy.delayAfter(3, -1) >= 0);
        assertEquals(-1, policy.delayAfter(4, -1), "4 attempts in all: none after the 4th");
        assertEquals(-1, new RetryPolicy(1, 200, 1000).delayAfter(1, -1), "1 attempt = no retry");
    }

    @Test
    void anUpstreamRetryAfterIsWaitedInFullOrNotAtAll() {
        for (int i = 0; i < 1000; i++) {
            long delay = policy.delayAfter(1, 700);
            assertTrue(delay >= 700 && delay <= 1000, "at least the retry-after, never past the cap: " + delay);
        }
        assertEquals(-1, policy.delayAfter(1, 1001), "longer than the cap: the client gets the retry-after instead");
        assertEquals(-1, policy.delayAfter(4, 0), "the budget still holds");
    }

    @Test
    void nonsenseSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(0, 200, 1000));
        assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(3, -1, 1000));
    }
}
