package dev.caravan.config;

/** Price of a model in USD per 1,000 tokens. */
public record Cost(double inputPer1k, double outputPer1k) {

    public static final Cost FREE = new Cost(0, 0);

    public double of(long promptTokens, long completionTokens) {
        return promptTokens / 1000.0 * inputPer1k + completionTokens / 1000.0 * outputPer1k;
    }
}
