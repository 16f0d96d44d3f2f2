package dev.caravan.tasks;

import java.util.concurrent.Semaphore;
import java.util.function.Consumer;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.support.SynchronizationAdapter;

/**
 * First step of the tasks-worker route: at most gateway.task-workers tasks run at once; the others wait in the
 * bounded SEDA queue. A slot is held until the task's worker exchange completes (its outcome recorded).
 * <p>
 * Why a semaphore on the SEDA consumer thread: the SEDA consumer hands each exchange to the asynchronous routing
 * engine and polls the next at once, so concurrentConsumers does not bound an asynchronous route. The one
 * consumer thread waiting here for a free slot (it is SEDA's own thread, which otherwise waits on the queue; never
 * an event loop) keeps the waiting tasks in the queue, where its bound applies, instead of in memory unbounded.
 */
final class TaskSlots implements Processor {

    private final Semaphore slots;
    private final Consumer<String> onRelease;

    /** @param onRelease told the id of each task whose slot is released (Redis: its lease is no longer renewed) */
    TaskSlots(int workers, Consumer<String> onRelease) {
        this.slots = new Semaphore(workers);
        this.onRelease = onRelease;
    }

    @Override
    public void process(Exchange exchange) throws InterruptedException {
        slots.acquire();
        String taskId = taskId(exchange.getMessage().getBody());
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                slots.release();
                onRelease.accept(taskId);
            }
        });
    }

    static String taskId(Object body) {
        if (body instanceof Task task) {
            return task.id();
        }
        if (body instanceof TaskStore.Claim claim) {
            return claim.task().id();
        }
        return null;
    }
}
