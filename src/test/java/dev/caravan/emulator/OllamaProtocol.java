package dev.caravan.emulator;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import dev.caravan.emulator.Exchange.Frame;

/**
 * Ollama's native API: /api/chat, /api/generate, /api/embed (and the older /api/embeddings), /api/tags,
 * /api/version and "/". Streams are NDJSON, one object per line; stream defaults to true when absent. Field
 * order follows Ollama's Go structs (ChatResponse puts done_reason before done, GenerateResponse after it).
 */
final class OllamaProtocol {

    private static final Buffer TAGS = Buffer.buffer("{\"models\":[{\"name\":\"llama3.2:latest\",\"model\":\"llama3.2:latest\","
            + "\"modified_at\":\"2024-10-01T00:00:00Z\",\"size\":2019393189,\"digest\":\"a80c4f17acd5\",\"details\":"
            + "{\"format\":\"gguf\",\"family\":\"llama\",\"parameter_size\":\"3.2B\",\"quantization_level\":\"Q4_K_M\"}}]}");
    private static final Buffer VERSION = Buffer.buffer("{\"version\":\"0.12.6\"}");
    private static final Buffer RUNNING = Buffer.buffer("Ollama is running");

    /** Fake but deterministic timings (ns): the durations a run with the configured delays would report. */
    private static final long LOAD_NS = 1_000_000;
    private static final long PER_TOKEN_NS = 10_000;

    private OllamaProtocol() {
    }

    static void tags(Exchange ex) {
        ex.respond(200, Exchange.JSON_UTF8, TAGS, 0);
    }

    static void version(Exchange ex) {
        ex.respond(200, Exchange.JSON_UTF8, VERSION, 0);
    }

    static void root(Exchange ex) {
        ex.respond(200, Exchange.TEXT, RUNNING, 0);
    }

    static void chat(Exchange ex, JsonObject req) {
        int prompt = 0;
        if (req.getValue("messages") instanceof JsonArray messages) {
            for (Object m : messages) {
                if (m instanceof JsonObject msg) prompt += Tokens.wordsOf(msg.getValue("content"));
            }
        }
        String tool = req.getValue("tools") instanceof JsonArray tools && !tools.isEmpty()
                && tools.getValue(0) instanceof JsonObject t && t.getValue("function") instanceof JsonObject fn
                ? OpenAiProtocol.string(fn, "name", "tool") : null;
        answer(ex, req, prompt, tool, true);
    }

    static void generate(Exchange ex, JsonObject req) {
        answer(ex, req, Tokens.wordsOf(req.getValue("prompt")), null, false);
    }

    /** Chat and generate differ only in "message":{..} versus "response":".." and the done/done_reason order. */
    private static void answer(Exchange ex, JsonObject req, int prompt, String tool, boolean chat) {
        String model = Tokens.quote(OpenAiProtocol.string(req, "model", "llama3.2"));
        boolean stream = !Boolean.FALSE.equals(req.getValue("stream"));
        int limit = ex.reply.size();
        if (req.getValue("options") instanceof JsonObject options && options.getValue("num_predict") instanceof Number n
                && n.intValue() >= 0) {   // -1 (infinite) and -2 (fill context) do not limit
            limit = Math.min(limit, n.intValue());
        }
        int count = tool != null ? 1 : limit;
        String reason = tool == null && limit < ex.reply.size() ? "length" : "stop";

        long firstNs = ex.firstTokenDelayMs * 1_000_000;
        long tokenNs = ex.tokenDelayMs * 1_000_000;
        long promptEvalNs = firstNs + prompt * PER_TOKEN_NS;
        long evalNs = count * (tokenNs + PER_TOKEN_NS);
        Instant start = Instant.now();
        String head = "{\"model\":" + model + ",\"created_at\":\"";

        String fin = (chat ? "" : ",\"done\":true") + ",\"done_reason\":\"" + reason + "\"" + (chat ? ",\"done\":true" : "")
                + ",\"total_duration\":" + (LOAD_NS + promptEvalNs + evalNs) + ",\"load_duration\":" + LOAD_NS
                + ",\"prompt_eval_count\":" + prompt + ",\"prompt_eval_duration\":" + promptEvalNs
                + ",\"eval_count\":" + count + ",\"eval_duration\":" + evalNs + "}";
        String toolMessage = tool == null ? null
                : "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":" + Tokens.quote(tool)
                + ",\"arguments\":{\"location\":\"Paris\"}}}]}";

        if (!stream) {
            String at = Tokens.ollamaTime(start.plusNanos(firstNs + Math.max(0, count - 1) * tokenNs));
            String text = Tokens.quote(ex.reply.prefix(limit));
            String payload = !chat ? ",\"response\":" + text
                    : ",\"message\":" + (toolMessage != null ? toolMessage : message(text));
            String body = head + at + "\"" + payload + fin;
            ex.respond(200, Exchange.JSON_UTF8, body, ex.nonStreamDelay(count));
            return;
        }

        List<Frame> frames = new ArrayList<>(count + 1);
        // created_at of each line is when that line would have been produced with the configured delays
        if (toolMessage != null) {
            frames.add(Frame.token(head + Tokens.ollamaTime(start.plusNanos(firstNs)) + "\",\"message\":" + toolMessage
                    + ",\"done\":false}\n"));
        } else {
            for (int i = 0; i < count; i++) {
                String at = Tokens.ollamaTime(start.plusNanos(firstNs + i * tokenNs));
                String token = ex.reply.quoted().get(i);
                frames.add(Frame.token(head + at + "\"" + (chat ? ",\"message\":" + message(token) : ",\"response\":" + token)
                        + ",\"done\":false}\n"));
            }
        }
        String at = Tokens.ollamaTime(start.plusNanos(firstNs + count * tokenNs));
        frames.add(Frame.meta(head + at + "\"" + (chat ? ",\"message\":" + message("\"\"") : ",\"response\":\"\"")
                + fin + "\n"));
        ex.stream(Exchange.NDJSON, frames);
    }

    private static String message(String quotedContent) {
        return "{\"role\":\"assistant\",\"content\":" + quotedContent + "}";
    }

    /** /api/embed: input is a string or an array of strings; one vector per input. */
    static void embed(Exchange ex, JsonObject req) {
        List<String> inputs = OpenAiProtocol.embeddingInputs(req.getValue("input"));
        int words = 0;
        StringBuilder sb = new StringBuilder(96 + inputs.size() * 120)
                .append("{\"model\":").append(Tokens.quote(OpenAiProtocol.string(req, "model", "all-minilm")))
                .append(",\"embeddings\":[");
        for (int i = 0; i < inputs.size(); i++) {
            if (i > 0) sb.append(',');
            words += Tokens.words(inputs.get(i));
            Tokens.appendFloats(sb, Tokens.embedding(inputs.get(i)));
        }
        long promptNs = words * PER_TOKEN_NS;
        sb.append("],\"total_duration\":").append(LOAD_NS + promptNs).append(",\"load_duration\":").append(LOAD_NS)
                .append(",\"prompt_eval_count\":").append(words).append('}');
        ex.respond(200, Exchange.JSON_UTF8, sb.toString(), ex.firstTokenDelayMs);
    }

    /** The deprecated /api/embeddings: {"prompt":..} in, {"embedding":[..]} out. */
    static void embeddings(Exchange ex, JsonObject req) {
        StringBuilder sb = new StringBuilder(128).append("{\"embedding\":");
        Tokens.appendFloats(sb, Tokens.embedding(OpenAiProtocol.string(req, "prompt", "")));
        ex.respond(200, Exchange.JSON_UTF8, sb.append('}').toString(), ex.firstTokenDelayMs);
    }

    static String error(String message) {
        return "{\"error\":" + Tokens.quote(message) + "}";
    }
}
