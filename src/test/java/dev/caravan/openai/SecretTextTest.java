package dev.caravan.openai;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The scrubber masks credential-shaped text and leaves the rest of an upstream's message as it was. */
class SecretTextTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "Incorrect API key provided: sk-proj-Abc123def456. | Incorrect API key provided: sk-***.",
            "Authorization: Bearer abc.def-123 was refused | Authorization: *** was refused",
            "got bearer eyJhbGciOiJIUzI1NiJ9 from you | got bearer *** from you",
            "https://gen.example/v1?key=AIzaSyD-0123 failed | https://gen.example/v1?key=*** failed",
            "{\"api_key\": \"abc123\", \"n\": 1} | {\"api_key\": \"***\", \"n\": 1}",
            "x-api-key=alice-key-01 rejected | x-api-key=*** rejected",
            "proxy https://user:pa55@proxy.example/ down | proxy https://***@proxy.example/ down",
            "trace 5f2b8c1e9a7d4b3f6e0c2a8d9b1f7e4c | trace ***",
            "authorization: Basic dXNlcjpwYXNz | authorization: ***"})
    void masksCredentials(String text, String scrubbed) {
        assertEquals(scrubbed, SecretText.scrub(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens (max_tokens: 100).",
            "model 'meta-llama/Meta-Llama-3.1-8B-Instruct' not found, try pulling it first",
            "unsloth_Meta-Llama-3-8B-Instruct-bnb-4bit is not loaded",
            "The upstream cannot be reached: Connection refused: localhost/127.0.0.1:11434",
            "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096",
            "request 550e8400-e29b-41d4-a716-446655440000 failed"})
    void leavesOrdinaryMessagesAlone(String text) {
        assertEquals(text, SecretText.scrub(text));
    }
}
