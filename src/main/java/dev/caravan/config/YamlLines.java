package dev.caravan.config;

import java.io.StringReader;
import java.util.List;

import com.fasterxml.jackson.databind.JsonMappingException;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * The line of a key in a YAML text, found by walking the document along a Jackson error path: Jackson reports
 * where its parser stopped, which is often a line or two past the key an operator must fix.
 */
final class YamlLines {

    private YamlLines() {
    }

    /** 1-based line of the node at {@code path}; 0 when it cannot be found. */
    static int lineOf(String yaml, List<JsonMappingException.Reference> path) {
        try {
            Node node = new Yaml(new LoaderOptions()).compose(new StringReader(yaml));
            Node keyNode = null;
            for (JsonMappingException.Reference step : path) {
                if (node instanceof MappingNode mapping && step.getFieldName() != null) {
                    keyNode = null;
                    for (NodeTuple tuple : mapping.getValue()) {
                        if (tuple.getKeyNode() instanceof ScalarNode key && key.getValue().equals(step.getFieldName())) {
                            keyNode = key;
                            node = tuple.getValueNode();
                            break;
                        }
                    }
                    if (keyNode == null) {
                        return 0;
                    }
                } else if (node instanceof SequenceNode sequence && step.getIndex() >= 0
                        && step.getIndex() < sequence.getValue().size()) {
                    node = sequence.getValue().get(step.getIndex());
                    keyNode = node;
                } else {
                    return 0;
                }
            }
            return keyNode == null ? 0 : keyNode.getStartMark().getLine() + 1;
        } catch (RuntimeException e) {
            return 0; // a line number is a courtesy; the key name is still reported
        }
    }
}
