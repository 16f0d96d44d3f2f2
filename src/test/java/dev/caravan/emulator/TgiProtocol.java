package dev.caravan.emulator;

import java.util.ArrayList;
import java.util.List;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import dev.caravan.emulator.Exchange.Frame;

/**
 * Hugging Face text-generation-inference: /generate, /generate_stream, /info, /health. As in TGI's router,
 * "details" appear only when parameters.details is true, stream events are written by axum as "data:{json}"
 * with no space, the token index starts at 1, and no [DONE] closes the stream.
 */
final class TgiProtocol {

    private static final Buffer INFO = Buffer.buffer("{\"model_id\":\"emu-tgi\",\"model_sha\":null,\"model_pipeline_tag\":"
            + "\"text-generation\",\"max_concurrent_requests\":128,\"max_best_of\":2,\"max_stop_sequences\":4,"
            + "\"max_input_tokens\":4096,\"max_total_tokens\":8192,\"validation_workers\":2,\"max_client_batch_size\":4,"
            + "\"router\":\"text-generation-router\",\"version\":\"3.3.6\",\"sha\":null,\"docker_label\":null}");

    private TgiProtocol() {
    }

    static void info(Exchange ex) {
        ex.respond(200, Exchange.JSON, INFO, 0);
    }

    static void health(Exchange ex) {
        ex.respond(200, null, Buffer.buffer(), 0);
    }

    /** How many reply tokens a request gets and why it stopped: max_new_tokens, a stop sequence, or the end. */
    private record Plan(int count, String finishReason) {
        static Plan of(Tokens.Reply reply, JsonObject params) {
            int limit = reply.size();
            String reason = "eos_token";
            if (params.getValue("max_new_tokens") instanceof Number n && n.intValue() < limit) {
                limit = Math.max(0, n.intValue());
                reason = "length";
            }
            if (params.getValue("stop") instanceof JsonArray stops && !stops.isEmpty()) {
                // TGI stops at the token that completes a stop sequence and keeps that token in the text
                StringBuilder text = new StringBuilder();
                for (int i = 0; i < limit; i++) {
                    text.append(reply.tokens().get(i));
                    for (Object stop : stops) {
                        if (stop instanceof String s && !s.isEmpty() && text.indexOf(s) >= 0) {
                            return new Plan(i + 1, "stop_sequence");
                        }
                    }
                }
            }
            return new Plan(limit, reason);
        }
    }

    static void generate(Exchange ex, JsonObject req) {
        JsonObject params = params(req);
        String inputs = OpenAiProtocol.string(req, "inputs", "");
        int prompt = Tokens.words(inputs);
        Plan plan = Plan.of(ex.reply, params);
        StringBuilder sb = new StringBuilder(256).append("{\"generated_text\":").append(Tokens.quote(ex.reply.prefix(plan.count)));
        if (Boolean.TRUE.equals(params.getValue("details"))) {
            sb.append(",\"details\":{\"finish_reason\":\"").append(plan.finishReason).append("\",\"generated_tokens\":")
                    .append(plan.count).append(",\"seed\":null,\"prefill\":[");
            if (Boolean.TRUE.equals(params.getValue("decoder_input_details"))) {
                List<String> words = Tokens.split(inputs);
                for (int i = 0; i < words.size(); i++) {
                    if (i > 0) sb.append(',');
                    sb.append("{\"id\":").append(i).append(",\"text\":").append(Tokens.quote(words.get(i).strip()))
                            .append(",\"logprob\":null}");
                }
            }
            sb.append("],\"tokens\":[");
            for (int i = 0; i < plan.count; i++) {
                if (i > 0) sb.append(',');
                sb.append(token(i + 1, ex.reply.quoted().get(i)));
            }
            sb.append("]}");
        }
        sb.append('}');
        // TGI reports token counts in headers too; some clients read usage from them
        ex.response.putHeader("x-compute-type", "emu");
        ex.response.putHeader("x-prompt-tokens", Integer.toString(prompt));
        ex.response.putHeader("x-generated-tokens", Integer.toString(plan.count));
        ex.respond(200, Exchange.JSON, sb.toString(), ex.nonStreamDelay(plan.count));
    }

    static void generateStream(Exchange ex, JsonObject req) {
        JsonObject params = params(req);
        int prompt = Tokens.words(OpenAiProtocol.string(req, "inputs", ""));
        Plan plan = Plan.of(ex.reply, params);
        boolean details = Boolean.TRUE.equals(params.getValue("details"));
        List<Frame> frames = new ArrayList<>(Math.max(1, plan.count));
        if (plan.count == 0) {
            // a model always emits at least one token; an empty reply ends on a special end-of-sequence token
            frames.add(Frame.token("data:{\"index\":1,\"token\":{\"id\":1,\"text\":\"\",\"logprob\":-0.1,\"special\":true},"
                    + "\"generated_text\":\"\",\"details\":" + details(details, plan, prompt) + "}\n\n"));
        }
        for (int i = 0; i < plan.count; i++) {
            boolean last = i == plan.count - 1;
            frames.add(Frame.token("data:{\"index\":" + (i + 1) + ",\"token\":" + token(i + 1, ex.reply.quoted().get(i))
                    + ",\"generated_text\":" + (last ? Tokens.quote(ex.reply.prefix(plan.count)) : "null")
                    + ",\"details\":" + (last ? details(details, plan, prompt) : "null") + "}\n\n"));
        }
        ex.response.putHeader("x-compute-type", "emu");
        ex.response.putHeader("x-accel-buffering", "no");
        ex.stream(Exchange.SSE, frames);
    }

    private static String details(boolean wanted, Plan plan, int prompt) {
        return wanted ? "{\"finish_reason\":\"" + plan.finishReason + "\",\"generated_tokens\":" + plan.count
                + ",\"seed\":null,\"input_length\":" + prompt + "}" : "null";
    }

    private static String token(int id, String quotedText) {
        return "{\"id\":" + id + ",\"text\":" + quotedText + ",\"logprob\":-0.1,\"special\":false}";
    }

    private static JsonObject params(JsonObject req) {
        return req.getValue("parameters") instanceof JsonObject p ? p : new JsonObject();
    }

    /** TGI's ErrorResponse always carries error_type next to error. */
    static String error(String message, int status) {
        String type = switch (status) {
            case 429 -> "overloaded";
            case 400, 422 -> "validation";
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 500 -> "incomplete_generation";
            default -> "generation";
        };
        return "{\"error\":" + Tokens.quote(message) + ",\"error_type\":\"" + type + "\"}";
    }
}
