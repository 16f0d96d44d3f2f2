package dev.caravan.pipelines;

/**
 * Why a pipeline does not go live (its file's shape, a duplicate id, steps that do not build). The admin API answers
 * it as a 400; a file dropped into the folder gets a WARN. Pipelines already running are never touched by it.
 */
public final class PipelineRefused extends RuntimeException {

    public PipelineRefused(String reason) {
        super(reason, null, false, false);
    }
}
