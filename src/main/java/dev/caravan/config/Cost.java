package dev.caravan.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

/** Price of a model in USD per 1,000 tokens; a side left out costs nothing. */
public record Cost(double inputPer1k, double outputPer1k) {

    public static final Cost FREE = new Cost(0, 0);

    @JsonCreator
    static Cost of(@JsonProperty("input-per-1k") Double inputPer1k, @JsonProperty("output-per-1k") Double outputPer1k) {
        return new Cost(inputPer1k == null ? 0 : inputPer1k, outputPer1k == null ? 0 : outputPer1k);
    }

    public double of(long promptTokens, long completionTokens) {
        return promptTokens / 1000.0 * inputPer1k + completionTokens / 1000.0 * outputPer1k;
    }
}
