package dev.caravan.openai;

/** How a reply goes out: one JSON document, OpenAI server-sent events, or one JSON chunk a line. */
public enum ReplyFormat {
    JSON, SSE, NDJSON;

    public boolean streams() {
        return this != JSON;
    }
}
