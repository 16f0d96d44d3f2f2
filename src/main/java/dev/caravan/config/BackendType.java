package dev.caravan.config;

import java.util.Locale;

/** The upstream protocols an adapter exists for. */
public enum BackendType {
    OPENAI, OLLAMA, TGI, ANTHROPIC, GEMINI, LOCAL;

    public static BackendType of(String name) {
        if (name == null) {
            throw new IllegalArgumentException("backend type is missing (openai | ollama | tgi | anthropic | gemini | local)");
        }
        switch (name) { // the spellings gateway.yaml uses, without allocating on every request
            case "openai", "vllm": return OPENAI;
            case "ollama": return OLLAMA;
            case "tgi": return TGI;
            case "local": return LOCAL;
            default: break;
        }
        String n = name.toLowerCase(Locale.ROOT);
        if (n.equals("vllm")) {
            return OPENAI; // vLLM speaks the OpenAI protocol
        }
        try {
            return valueOf(n.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "unknown backend type '" + name + "' (openai | ollama | tgi | anthropic | gemini | local)");
        }
    }

    /** The name used in route ids and endpoint uris: backend-openai, direct:backend-ollama, ... */
    public String routeName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
