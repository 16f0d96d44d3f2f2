package dev.caravan.pipelines;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A retired version's routes go exactly once, and only when no request uses it: requests that took it before the
 * retirement hold it; a request that comes after finds it retired and looks for its successor.
 */
class PipelineVersionTest {

    private static PipelineVersion version() {
        return new PipelineVersion(PipelineDefinition.parse("pipeline: {id: v, type: filter, inlet: [{log: x}]}"),
                1, "test");
    }

    @Test
    void drainedOnceTheLastUserReleases() {
        PipelineVersion version = version();
        AtomicInteger drained = new AtomicInteger();
        assertTrue(version.tryUse());
        assertTrue(version.tryUse());
        version.retire(drained::incrementAndGet);
        assertFalse(version.tryUse(), "a retired version is not taken");
        assertEquals(0, drained.get(), "two requests still use it");
        version.release();
        assertEquals(0, drained.get());
        version.release();
        assertEquals(1, drained.get());
    }

    @Test
    void retiredUnusedIsDrainedAtOnce() {
        PipelineVersion version = version();
        AtomicInteger drained = new AtomicInteger();
        version.retire(drained::incrementAndGet);
        assertEquals(1, drained.get());
    }

    @Test
    void racingUsersAndRetirementDrainExactlyOnceAndNeverUnderAUser() throws Exception {
        for (int round = 0; round < 200; round++) {
            PipelineVersion version = version();
            AtomicInteger drained = new AtomicInteger();
            AtomicInteger holding = new AtomicInteger();
            AtomicInteger holdingAtDrain = new AtomicInteger(-1);
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Thread thread = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < 200; i++) {
                        if (version.tryUse()) {
                            holding.incrementAndGet();
                            Thread.onSpinWait();
                            holding.decrementAndGet();
                            version.release();
                        }
                    }
                });
                thread.start();
                threads.add(thread);
            }
            go.countDown();
            version.retire(() -> {
                holdingAtDrain.set(holding.get());
                drained.incrementAndGet();
            });
            for (Thread thread : threads) {
                thread.join();
            }
            assertEquals(1, drained.get(), "round " + round);
            assertEquals(0, version.users(), "round " + round);
            assertEquals(0, holdingAtDrain.get(), "round " + round + ": drained while a request held it");
        }
    }
}
