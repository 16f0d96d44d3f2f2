package dev.caravan.pipelines;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

/**
 * One pipeline file, read and checked against the format of routes/pipelines/ (README, "Pipelines"): a
 * {@code pipeline:} mapping with an id, a type (filter or pipe) and Camel YAML DSL steps. Only the shape is
 * checked here; whether the steps build is the running context's to say ({@link PipelineRoutes}).
 *
 * @param models filter: globs of the model ids clients send that it runs for; pipe: empty
 * @param priority filter: lower runs first (ties by id); pipe: 0
 * @param inlet filter: steps run in the pre-hooks (may be null, not both with outlet)
 * @param outlet filter: steps run in the post-hooks
 * @param steps pipe: the steps that answer its model
 */
public record PipelineDefinition(String id, PipelineType type, String name, String description, List<String> models,
        int priority, ArrayNode inlet, ArrayNode outlet, ArrayNode steps) {

    /** Folder-safe, URI-safe and route-id-safe: lower case letters, digits, '-' and '_'; at most 64. */
    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");
    private static final Set<String> FILTER_KEYS = Set.of("id", "type", "name", "description", "models", "priority",
            "inlet", "outlet");
    private static final Set<String> PIPE_KEYS = Set.of("id", "type", "name", "description", "steps");
    private static final YAMLMapper YAML = YAMLMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

    public boolean isFilter() {
        return type == PipelineType.FILTER;
    }

    /** Reads a pipeline file's text; a {@link PipelineRefused} says what is wrong, in the file's own words. */
    public static PipelineDefinition parse(String yaml) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml == null ? "" : yaml);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")";
            throw new PipelineRefused("not valid YAML" + where + ": " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject() || root.size() != 1 || !root.path("pipeline").isObject()) {
            throw new PipelineRefused("a pipeline file holds one mapping, 'pipeline:', with id, type and steps");
        }
        JsonNode pipeline = root.get("pipeline");
        String id = text(pipeline, "id", true);
        if (!ID.matcher(id).matches()) {
            throw new PipelineRefused("id '" + clip(id) + "' must be lower case letters, digits, '-' or '_' (at most"
                    + " 64, starting with a letter or digit)");
        }
        String typeName = text(pipeline, "type", true);
        PipelineType type = PipelineType.parse(typeName);
        if (type == null) {
            throw new PipelineRefused("type '" + clip(typeName) + "' is neither filter nor pipe");
        }
        unknownKeys(pipeline, type == PipelineType.FILTER ? FILTER_KEYS : PIPE_KEYS, type);
        String name = text(pipeline, "name", false);
        String description = text(pipeline, "description", false);
        if (type == PipelineType.PIPE) {
            return new PipelineDefinition(id, type, name == null ? id : name, description, List.of(), 0, null, null,
                    steps(pipeline, "steps", true));
        }
        ArrayNode inlet = steps(pipeline, "inlet", false);
        ArrayNode outlet = steps(pipeline, "outlet", false);
        if (inlet == null && outlet == null) {
            throw new PipelineRefused("a filter needs inlet steps, outlet steps or both");
        }
        return new PipelineDefinition(id, type, name == null ? id : name, description, models(pipeline),
                priority(pipeline), inlet, outlet, null);
    }

    private static void unknownKeys(JsonNode pipeline, Set<String> known, PipelineType type) {
        for (Iterator<String> names = pipeline.fieldNames(); names.hasNext(); ) {
            String key = names.next();
            if (!known.contains(key)) {
                throw new PipelineRefused("unknown key '" + clip(key) + "' for a " + type.label() + " (known: "
                        + String.join(", ", known.stream().sorted().toList()) + ")");
            }
        }
    }

    private static String text(JsonNode pipeline, String key, boolean required) {
        JsonNode value = pipeline.get(key);
        if (value == null || value.isNull()) {
            if (required) {
                throw new PipelineRefused("'" + key + "' is missing");
            }
            return null;
        }
        if (!value.isValueNode() || value.isBoolean()) {
            throw new PipelineRefused("'" + key + "' must be text");
        }
        return value.asText();
    }

    private static List<String> models(JsonNode pipeline) {
        JsonNode models = pipeline.get("models");
        if (models == null || models.isNull()) {
            return List.of("*");
        }
        if (models.isTextual()) {
            return List.of(models.asText());
        }
        if (!models.isArray() || models.isEmpty()) {
            throw new PipelineRefused("'models' must be a list of model ids or globs (\"*\", \"llama*\")");
        }
        List<String> globs = new ArrayList<>();
        for (JsonNode glob : models) {
            if (!glob.isTextual() || glob.asText().isEmpty()) {
                throw new PipelineRefused("'models' must be a list of model ids or globs (\"*\", \"llama*\")");
            }
            globs.add(glob.asText());
        }
        return List.copyOf(globs);
    }

    private static int priority(JsonNode pipeline) {
        JsonNode priority = pipeline.get("priority");
        if (priority == null || priority.isNull()) {
            return 0;
        }
        if (!priority.isIntegralNumber() || !priority.canConvertToInt()) {
            throw new PipelineRefused("'priority' must be a whole number (lower runs first)");
        }
        return priority.asInt();
    }

    private static ArrayNode steps(JsonNode pipeline, String key, boolean required) {
        JsonNode steps = pipeline.get(key);
        if (steps == null || steps.isNull()) {
            if (required) {
                throw new PipelineRefused("'" + key + "' is missing: a list of Camel YAML DSL steps");
            }
            return null;
        }
        if (!steps.isArray() || steps.isEmpty()) {
            throw new PipelineRefused("'" + key + "' must be a list of Camel YAML DSL steps (- setBody: ..., "
                    + "- transform: {jq: ...}, - to: direct:router)");
        }
        for (JsonNode step : steps) {
            if (!step.isObject() || step.size() != 1) {
                throw new PipelineRefused("each of '" + key + "' must be one step, such as '- log: hello'");
            }
        }
        return (ArrayNode) steps;
    }

    private static String clip(String text) {
        return text.length() > 40 ? text.substring(0, 40) + "..." : text;
    }

    /** The two kinds of pipeline, as Open WebUI Pipelines has them. */
    public enum PipelineType {
        /** Steps around other models' requests: an inlet in the pre-hooks, an outlet in the post-hooks. */
        FILTER,
        /** A model of its own, answered by its steps. */
        PIPE;

        static PipelineType parse(String name) {
            for (PipelineType type : values()) {
                if (type.label().equals(name.toLowerCase(Locale.ROOT))) {
                    return type;
                }
            }
            return null;
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
