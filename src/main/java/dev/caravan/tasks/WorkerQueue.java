package dev.caravan.tasks;

import dev.caravan.openai.OpenAiError;
import org.apache.camel.AsyncProducer;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePattern;
import org.apache.camel.support.DefaultExchange;
import org.apache.camel.support.service.ServiceHelper;

/**
 * The SEDA queue the tasks-worker route consumes: in memory it is the task queue itself; with Redis it takes
 * the tasks this instance claimed. An offer is InOnly and returns at once; a full queue is a 503, never a drop
 * (SEDA without blockWhenFull throws at once when full).
 */
final class WorkerQueue {

    private final CamelContext camel;
    private final String uri;
    private AsyncProducer producer;

    WorkerQueue(CamelContext camel, String uri) {
        this.camel = camel;
        this.uri = uri;
    }

    void offer(Object body) {
        Exchange exchange = new DefaultExchange(camel, ExchangePattern.InOnly);
        exchange.getMessage().setBody(body);
        try {
            producer().process(exchange);
        } catch (IllegalStateException full) {
            throw OpenAiError.overloaded("The task queue is full; try again later", 5);
        } catch (Exception e) {
            throw new IllegalStateException("The task could not be queued: " + e.getMessage(), e);
        }
        if (exchange.getException() != null) {
            throw new IllegalStateException("The task could not be queued: " + exchange.getException().getMessage(),
                    exchange.getException());
        }
    }

    private synchronized AsyncProducer producer() throws Exception {
        if (producer == null) {
            AsyncProducer created = camel.getEndpoint(uri).createAsyncProducer();
            ServiceHelper.startService(created);
            producer = created;
        }
        return producer;
    }

    synchronized void close() {
        ServiceHelper.stopService(producer);
        producer = null;
    }
}
