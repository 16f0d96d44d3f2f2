package dev.caravan.backend;

import dev.caravan.openai.OpenAiError;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/** The step of a backend route whose protocol has no adapter yet: 501 backend_not_supported, no upstream call. */
final class UnsupportedProtocol implements Processor {

    private final String protocol;

    UnsupportedProtocol(String protocol) {
        this.protocol = protocol;
    }

    @Override
    public void process(Exchange exchange) {
        throw new OpenAiError(501, "invalid_request_error", "backend_not_supported", null,
                "Backends of type " + protocol + " are not supported yet");
    }
}
