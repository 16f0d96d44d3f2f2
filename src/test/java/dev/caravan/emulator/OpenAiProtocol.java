package dev.caravan.emulator;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import dev.caravan.emulator.Exchange.Frame;

/**
 * OpenAI-compatible upstream (OpenAI itself, vLLM): /v1/chat/completions, /v1/completions, /v1/embeddings and
 * /v1/models. Bodies are built as text in OpenAI's field order; SSE events are "data: {json}\n\n" and the
 * stream ends with "data: [DONE]\n\n".
 */
final class OpenAiProtocol {

    /** The one tool call the emulator ever makes, and how its arguments are split when streamed. */
    static final String TOOL_CALL_ID = "call_emu1";
    static final String TOOL_ARGUMENTS = "{\"location\":\"Paris\"}";
    static final List<String> TOOL_ARGUMENT_PIECES = List.of("{\"location\":", "\"Paris\"", "}");

    private static final Buffer DONE = Buffer.buffer("data: [DONE]\n\n");
    private static final Buffer MODELS = Buffer.buffer("{\"object\":\"list\",\"data\":["
            + "{\"id\":\"emu-model\",\"object\":\"model\",\"created\":1700000000,\"owned_by\":\"emulator\"},"
            + "{\"id\":\"emu-model-2\",\"object\":\"model\",\"created\":1700000000,\"owned_by\":\"emulator\"}]}");

    private OpenAiProtocol() {
    }

    static void models(Exchange ex) {
        ex.respond(200, Exchange.JSON, MODELS, 0);
    }

    static void chat(Exchange ex, JsonObject req) {
        String model = Tokens.quote(string(req, "model", "emu-model"));
        String id = Tokens.quote("chatcmpl-emu" + ex.emulator.nextId());
        boolean includeUsage = includeUsage(req) && !ex.omitUsage;
        int prompt = 0;
        JsonArray messages = req.getValue("messages") instanceof JsonArray a ? a : new JsonArray();
        for (Object m : messages) {
            if (m instanceof JsonObject msg) prompt += Tokens.wordsOf(msg.getValue("content"));
        }
        String tool = toolName(req);
        boolean stream = Boolean.TRUE.equals(req.getValue("stream"));

        int completion;
        String finish;
        if (tool != null) {
            completion = TOOL_ARGUMENT_PIECES.size();
            finish = "tool_calls";
        } else {
            completion = Math.min(ex.reply.size(), maxTokens(req, ex.reply.size()));
            finish = completion < ex.reply.size() ? "length" : "stop";
        }
        String usage = usage(prompt, completion);

        if (!stream) {
            String message = tool != null
                    ? "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" + toolCall(tool) + "]}"
                    : "{\"role\":\"assistant\",\"content\":" + Tokens.quote(ex.reply.prefix(completion)) + "}";
            String body = "{\"id\":" + id + ",\"object\":\"chat.completion\",\"created\":" + ex.createdSeconds
                    + ",\"model\":" + model + ",\"choices\":[{\"index\":0,\"message\":" + message
                    + ",\"logprobs\":null,\"finish_reason\":\"" + finish + "\"}],\"usage\":" + usage
                    + ",\"system_fingerprint\":\"emu\"}";
            ex.respond(200, Exchange.JSON, body, ex.nonStreamDelay(completion));
            return;
        }

        // every chunk but the usage one shares this head and, when usage was asked for, carries "usage":null
        String head = "data: {\"id\":" + id + ",\"object\":\"chat.completion.chunk\",\"created\":" + ex.createdSeconds
                + ",\"model\":" + model + ",\"system_fingerprint\":\"emu\",\"choices\":";
        String open = head + "[{\"index\":0,\"delta\":";
        String close = ",\"logprobs\":null,\"finish_reason\":null}]" + (includeUsage ? ",\"usage\":null}\n\n" : "}\n\n");

        List<Frame> frames = new ArrayList<>(completion + 4);
        if (tool != null) {
            frames.add(Frame.meta(open + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\""
                    + TOOL_CALL_ID + "\",\"type\":\"function\",\"function\":{\"name\":" + Tokens.quote(tool)
                    + ",\"arguments\":\"\"}}]}" + close));
            for (String piece : TOOL_ARGUMENT_PIECES) {
                frames.add(Frame.token(open + "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
                        + Tokens.quote(piece) + "}}]}" + close));
            }
        } else {
            frames.add(Frame.meta(open + "{\"role\":\"assistant\",\"content\":\"\"}" + close));
            for (int i = 0; i < completion; i++) {
                frames.add(Frame.token(open + "{\"content\":" + ex.reply.quoted().get(i) + "}" + close));
            }
        }
        frames.add(Frame.meta(open + "{},\"logprobs\":null,\"finish_reason\":\"" + finish + "\"}]"
                + (includeUsage ? ",\"usage\":null}\n\n" : "}\n\n")));
        if (includeUsage) frames.add(Frame.meta(head + "[],\"usage\":" + usage + "}\n\n"));
        frames.add(Frame.meta(DONE));
        ex.stream(Exchange.SSE, frames);
    }

    static void completions(Exchange ex, JsonObject req) {
        String model = Tokens.quote(string(req, "model", "emu-model"));
        String id = Tokens.quote("cmpl-emu" + ex.emulator.nextId());
        boolean includeUsage = includeUsage(req) && !ex.omitUsage;
        int prompt = Tokens.wordsOf(req.getValue("prompt"));
        int completion = Math.min(ex.reply.size(), maxTokens(req, ex.reply.size()));
        String finish = completion < ex.reply.size() ? "length" : "stop";
        String usage = usage(prompt, completion);
        String head = "{\"id\":" + id + ",\"object\":\"text_completion\",\"created\":" + ex.createdSeconds
                + ",\"model\":" + model + ",\"choices\":";

        if (!Boolean.TRUE.equals(req.getValue("stream"))) {
            String body = head + "[{\"text\":" + Tokens.quote(ex.reply.prefix(completion))
                    + ",\"index\":0,\"logprobs\":null,\"finish_reason\":\"" + finish + "\"}],\"usage\":" + usage + "}";
            ex.respond(200, Exchange.JSON, body, ex.nonStreamDelay(completion));
            return;
        }
        String tail = includeUsage ? ",\"usage\":null}\n\n" : "}\n\n";
        List<Frame> frames = new ArrayList<>(completion + 3);
        for (int i = 0; i < completion; i++) {
            frames.add(Frame.token("data: " + head + "[{\"text\":" + ex.reply.quoted().get(i)
                    + ",\"index\":0,\"logprobs\":null,\"finish_reason\":null}]" + tail));
        }
        frames.add(Frame.meta("data: " + head + "[{\"text\":\"\",\"index\":0,\"logprobs\":null,\"finish_reason\":\""
                + finish + "\"}]" + tail));
        if (includeUsage) frames.add(Frame.meta("data: " + head + "[],\"usage\":" + usage + "}\n\n"));
        frames.add(Frame.meta(DONE));
        ex.stream(Exchange.SSE, frames);
    }

    static void embeddings(Exchange ex, JsonObject req) {
        List<String> inputs = embeddingInputs(req.getValue("input"));
        boolean base64 = "base64".equals(req.getValue("encoding_format"));
        int words = 0;
        StringBuilder sb = new StringBuilder(128 + inputs.size() * 160).append("{\"object\":\"list\",\"data\":[");
        for (int i = 0; i < inputs.size(); i++) {
            String text = inputs.get(i);
            words += Tokens.words(text);
            float[] v = Tokens.embedding(text);
            if (i > 0) sb.append(',');
            sb.append("{\"object\":\"embedding\",\"index\":").append(i).append(",\"embedding\":");
            if (base64) sb.append('"').append(base64(v)).append('"');
            else Tokens.appendFloats(sb, v);
            sb.append('}');
        }
        sb.append("],\"model\":").append(Tokens.quote(string(req, "model", "emu-model")))
                .append(",\"usage\":{\"prompt_tokens\":").append(words).append(",\"total_tokens\":").append(words).append("}}");
        ex.respond(200, Exchange.JSON, sb.toString(), ex.firstTokenDelayMs);
    }

    /** OpenAI's error envelope; type says whose fault it was. */
    static String error(String message, String type) {
        return "{\"error\":{\"message\":" + Tokens.quote(message) + ",\"type\":\"" + type + "\",\"param\":null,\"code\":null}}";
    }

    // -- request reading helpers ---------------------------------------------------------------------------------

    static String string(JsonObject req, String key, String fallback) {
        Object v = req.getValue(key);
        return v == null ? fallback : v.toString();
    }

    private static boolean includeUsage(JsonObject req) {
        return req.getValue("stream_options") instanceof JsonObject so && Boolean.TRUE.equals(so.getValue("include_usage"));
    }

    /** max_completion_tokens (the newer name) wins over max_tokens; absent means the whole reply. */
    private static int maxTokens(JsonObject req, int fallback) {
        Object v = req.getValue("max_completion_tokens");
        if (!(v instanceof Number)) v = req.getValue("max_tokens");
        return v instanceof Number n ? Math.max(0, n.intValue()) : fallback;
    }

    /** Name of the first tool when the model is allowed to call one (tool_choice "none" forbids it). */
    private static String toolName(JsonObject req) {
        if (!(req.getValue("tools") instanceof JsonArray tools) || tools.isEmpty()) return null;
        if ("none".equals(req.getValue("tool_choice"))) return null;
        if (tools.getValue(0) instanceof JsonObject tool && tool.getValue("function") instanceof JsonObject fn) {
            return string(fn, "name", "tool");
        }
        return "tool";
    }

    private static String toolCall(String name) {
        return "{\"id\":\"" + TOOL_CALL_ID + "\",\"type\":\"function\",\"function\":{\"name\":" + Tokens.quote(name)
                + ",\"arguments\":" + Tokens.quote(TOOL_ARGUMENTS) + "}}";
    }

    private static String usage(int prompt, int completion) {
        return "{\"prompt_tokens\":" + prompt + ",\"completion_tokens\":" + completion + ",\"total_tokens\":"
                + (prompt + completion) + "}";
    }

    /** input is a string, an array of strings, an array of token ids or an array of such arrays. */
    static List<String> embeddingInputs(Object input) {
        List<String> out = new ArrayList<>();
        if (input instanceof JsonArray arr) {
            if (!arr.isEmpty() && arr.getValue(0) instanceof Number) {
                out.add(tokenIds(arr));
            } else {
                for (Object o : arr) out.add(o instanceof JsonArray ids ? tokenIds(ids) : String.valueOf(o));
            }
        } else if (input != null) {
            out.add(input.toString());
        }
        return out;
    }

    /** Token ids become "1 2 3" so the word count equals the number of ids and the vector stays deterministic. */
    private static String tokenIds(JsonArray ids) {
        StringBuilder sb = new StringBuilder();
        for (Object id : ids) sb.append(sb.length() == 0 ? "" : " ").append(id);
        return sb.toString();
    }

    private static String base64(float[] v) {
        ByteBuffer bytes = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) bytes.putFloat(f);
        return Base64.getEncoder().encodeToString(bytes.array());
    }
}
