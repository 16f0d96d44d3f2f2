package dev.caravan.openai;

/** What a request asks of a model. */
public enum Operation {
    CHAT, COMPLETION, EMBEDDINGS
}
