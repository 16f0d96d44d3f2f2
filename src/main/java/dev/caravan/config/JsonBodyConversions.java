package dev.caravan.config;

import java.util.Map;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.TypeConversionException;
import org.apache.camel.support.TypeConverterSupport;

/**
 * Lets {@code simple} read the request body by key, {@code ${body[model]}}, in YAML steps: simple turns the body into
 * a Map for that, and camel-jackson's JsonNode → Map converter (4.18) fails with a NullPointerException when simple
 * calls it without an exchange. This one, for the exact ObjectNode type, is found first.
 */
public final class JsonBodyConversions {

    private JsonBodyConversions() {
    }

    public static void register(CamelContext camel) {
        camel.getTypeConverterRegistry().addTypeConverter(Map.class, ObjectNode.class, new TypeConverterSupport() {
            @Override
            @SuppressWarnings("unchecked")
            public <T> T convertTo(Class<T> type, Exchange exchange, Object value) throws TypeConversionException {
                return (T) Json.MAPPER.convertValue(value, Map.class);
            }
        });
    }
}
