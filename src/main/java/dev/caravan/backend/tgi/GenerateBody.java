package dev.caravan.backend.tgi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.backend.UpstreamCall;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;

/** The body of /generate and /generate_stream: the prompt, and OpenAI's sampling fields as TGI's parameters. */
public final class GenerateBody {

    /** max_new_tokens when the client sets no max_tokens (TGI's own default, 100, cuts most answers short). */
    static final int DEFAULT_MAX_NEW_TOKENS = 512;
    /** TGI's default --max-stop-sequences; more makes it answer 422. */
    static final int MAX_STOP_SEQUENCES = 4;

    private GenerateBody() {
    }

    public static ObjectNode of(UpstreamCall call, Prompt prompt) {
        ObjectNode request = call.request();
        ObjectNode body = Json.object();
        body.put("inputs", prompt.inputs());
        ObjectNode parameters = body.putObject("parameters");
        JsonNode max = request.hasNonNull("max_completion_tokens") ? request.get("max_completion_tokens")
                : request.get("max_tokens");
        parameters.put("max_new_tokens", max != null && max.isNumber() ? max.asInt() : DEFAULT_MAX_NEW_TOKENS);
        // TGI refuses temperature 0 and top_p outside (0,1): both mean "no sampling change", so they are left out
        JsonNode temperature = request.get("temperature");
        if (temperature != null && temperature.isNumber() && temperature.asDouble() > 0) {
            parameters.set("temperature", temperature);
        }
        JsonNode topP = request.get("top_p");
        if (topP != null && topP.isNumber() && topP.asDouble() > 0 && topP.asDouble() < 1) {
            parameters.set("top_p", topP);
        }
        JsonNode seed = request.get("seed");
        if (seed != null && seed.canConvertToLong() && seed.asLong() >= 0) {
            parameters.put("seed", seed.asLong());
        }
        JsonNode frequencyPenalty = request.get("frequency_penalty");
        if (frequencyPenalty != null && frequencyPenalty.isNumber() && frequencyPenalty.asDouble() != 0) {
            parameters.set("frequency_penalty", frequencyPenalty);
        }
        if (!prompt.stops().isEmpty()) {
            // the stops past the fourth are watched for by the gateway alone (StopTrimmer)
            var stop = parameters.putArray("stop");
            prompt.stops().stream().limit(MAX_STOP_SEQUENCES).forEach(stop::add);
        }
        parameters.put("details", true); // finish_reason and generated_tokens
        parameters.put("decoder_input_details", false);
        parameters.put("return_full_text", false);
        if (prompt.chat()) {
            grammar(request.path("response_format"), parameters);
        }
        return body;
    }

    /** response_format as TGI's grammar: json_object is any object, json_schema its schema. */
    private static void grammar(JsonNode responseFormat, ObjectNode parameters) {
        switch (responseFormat.path("type").asText("")) {
            case "json_object" -> parameters.putObject("grammar").put("type", "json")
                    .putObject("value").put("type", "object");
            case "json_schema" -> {
                JsonNode schema = responseFormat.path("json_schema").get("schema");
                if (schema == null || !schema.isObject()) {
                    throw OpenAiError.invalidRequest("response_format.json_schema.schema",
                            "'response_format.json_schema.schema' must be a JSON schema object");
                }
                parameters.putObject("grammar").put("type", "json").set("value", schema);
            }
            default -> {
                // free text
            }
        }
    }
}
