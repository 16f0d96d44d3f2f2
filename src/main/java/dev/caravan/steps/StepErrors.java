package dev.caravan.steps;

import dev.caravan.openai.OpenAiError;

/** The errors the hook steps answer with, in OpenAI's shape (the error route writes them in the client's dialect). */
final class StepErrors {

    /** The code of a request a policy (the policy step, a call-out's verdict) refused. */
    static final String CONTENT_POLICY = "content_policy";

    private StepErrors() {
    }

    static OpenAiError contentPolicy(String param, String message) {
        return new OpenAiError(400, "invalid_request_error", CONTENT_POLICY, param, message);
    }
}
