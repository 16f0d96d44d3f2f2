package dev.caravan.pipelines;

import dev.caravan.config.KeyConfig;
import dev.caravan.exchange.ExchangeKeys;
import dev.caravan.openai.OpenAiError;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.support.SynchronizationAdapter;

/**
 * Model-lookup step "pipe-lookup" (bean pipelinePipe), in the router and the task enqueue: when the request names a pipe, it checks the key may use that id (its
 * models globs, → 403 as for any model), takes the pipe's live version for the request and sets {@link #ROUTE} to
 * its route, which the router then calls instead of a lane; otherwise it clears {@link #ROUTE}, so a pipe's own
 * {@code to: direct:router} with its base model goes on to the lanes. A pipe that hands to itself, round and
 * round, stops at {@link #MAX_DEPTH} with 508.
 */
public final class PipeEntry implements Processor {

    /** Exchange property: the pipe route (direct: URI) the router hands the request to; absent for a model. */
    public static final String ROUTE = "CaravanPipeRoute";
    /** Exchange property: the pipe version the request entered ("haiku-v2"), for logs and hooks. */
    public static final String PIPE = "CaravanPipe";
    private static final String DEPTH = "CaravanPipeDepth";
    /** The router's mark that a model (or a pipe) answered the request. */
    private static final String SERVED = "CaravanServed";
    static final int MAX_DEPTH = 8;

    private final Pipelines pipelines;

    PipeEntry(Pipelines pipelines) {
        this.pipelines = pipelines;
    }

    @Override
    public void process(Exchange exchange) {
        if (pipelines.snapshot().pipes().isEmpty()) {
            if (exchange.getProperty(ROUTE) != null) {
                exchange.removeProperty(ROUTE);
            }
            return;
        }
        String model = RequestModel.of(exchange);
        PipelineVersion pipe = take(model);
        if (pipe == null) {
            exchange.removeProperty(ROUTE);
            if (exchange.getProperty(DEPTH) != null) {
                // a pipe's own `to: direct:router`: each one serves anew (a pipe may try one model, then another)
                exchange.removeProperty(SERVED);
            }
            return;
        }
        KeyConfig key = exchange.getProperty(ExchangeKeys.KEY, KeyConfig.class);
        if (key != null && !key.allows(model)) {
            pipe.release();
            throw new OpenAiError(403, "invalid_request_error", "model_not_allowed", "model",
                    "The model " + OpenAiError.echo(model) + " is not allowed for this API key.");
        }
        int depth = exchange.getProperty(DEPTH, 0, Integer.class) + 1;
        if (depth > MAX_DEPTH) {
            pipe.release();
            throw new OpenAiError(508, "server_error", "pipe_loop", "model", "The pipe " + OpenAiError.echo(model)
                    + " handed the request on more than " + MAX_DEPTH + " times (a pipe that calls itself?)");
        }
        exchange.setProperty(DEPTH, depth);
        exchange.setProperty(PIPE, pipe.toString());
        exchange.setProperty(ROUTE, pipe.uri(PipelineVersion.Part.PIPE));
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                pipe.release();
            }
        });
    }

    private PipelineVersion take(String model) {
        while (true) {
            PipelineVersion pipe = pipelines.pipe(model);
            if (pipe == null || pipe.tryUse()) {
                return pipe;
            }
        }
    }
}
