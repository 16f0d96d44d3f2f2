package dev.caravan.steps;

import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.openai.Json;
import dev.caravan.openai.OpenAiError;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hook steps' rules on a request body, without a gateway (the gateway tests are in HookStepsTest). */
class StepsTest {

    private static final DefaultCamelContext CAMEL = new DefaultCamelContext();

    @Test
    void intentRulesMatchInOrderOnWholeWordsAndRegexes() {
        IntentRules rules = IntentRules.parse(
                "coding=compile, stack trace, regex:(?i)\\b(java|python)\\b|exit code\\s{1,3}\\d; chat=hello,thanks");
        assertEquals(java.util.List.of("coding", "chat"), rules.labels());
        assertEquals("coding", rules.classify("Why does this not COMPILE?"));
        assertEquals("coding", rules.classify("hello, a Stack\n trace from Python"));
        assertEquals("chat", rules.classify("Hello there"));
        assertEquals("coding", rules.classify("exit code  3")); // a regex may hold commas
        assertNull(rules.classify("javascript and thanksgiving")); // not inside longer words
        assertThrows(IllegalArgumentException.class, () -> IntentRules.parse("coding"));
        assertThrows(IllegalArgumentException.class, () -> IntentRules.parse("coding=regex:(unclosed"));
    }

    @Test
    void intentReadsTheLastUserMessageOrAllOfThem() {
        Intent intent = new Intent();
        intent.setRules("coding=java; chat=hello");
        intent.setDefaultLabel("other");
        Exchange exchange = exchange("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"java?\"},"
                + "{\"role\":\"assistant\",\"content\":\"yes\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\","
                + "\"text\":\"hello\"}]}]}");
        run(intent, exchange);
        assertEquals("chat", exchange.getProperty("CaravanIntent"));
        intent.setScope("all-user");
        run(intent, exchange);
        assertEquals("coding", exchange.getProperty("CaravanIntent"));
        intent.setRules("x=nothing-here");
        run(intent, exchange);
        assertEquals("other", exchange.getProperty("CaravanIntent"));
    }

    @Test
    void sanitizeStripsControlCharactersAndCapsSizes() {
        Sanitize sanitize = new Sanitize();
        Exchange exchange = exchange("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\\u0000b\\u001bc"
                + "\\td\\ne\\u007f\"}]}");
        run(sanitize, exchange);
        assertEquals("abc\td\ne", body(exchange).at("/messages/0/content").asText());

        sanitize.setMaxMessageChars(5);
        assertEquals("messages[0].content", param(sanitize, exchange("{\"model\":\"m\",\"messages\":[{\"role\":"
                + "\"user\",\"content\":\"123456\"}]}")));
        sanitize.setMaxMessageChars(10);
        sanitize.setMaxTotalChars(8);
        assertEquals("messages", param(sanitize, exchange("{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"12345\"},{\"role\":\"assistant\",\"content\":\"12345\"}]}")));
    }

    @Test
    void sanitizeChecksTheRoleOrder() {
        Sanitize sanitize = new Sanitize();
        String call = "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
                + "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}";
        run(sanitize, exchange(chat("{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"developer\",\"content\":\"d\"},"
                + "{\"role\":\"user\",\"content\":\"u\"}," + call + ",{\"role\":\"tool\",\"tool_call_id\":\"c1\","
                + "\"content\":\"r\"},{\"role\":\"assistant\",\"content\":\"a\"}")));
        assertEquals("messages[1].role", param(sanitize, exchange(chat(
                "{\"role\":\"user\",\"content\":\"u\"},{\"role\":\"system\",\"content\":\"s\"}"))));
        assertEquals("messages[1].role", param(sanitize, exchange(chat(
                "{\"role\":\"user\",\"content\":\"u\"},{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"r\"}"))));
        assertEquals("messages[2].tool_call_id", param(sanitize, exchange(chat("{\"role\":\"user\",\"content\":\"u\"},"
                + call + ",{\"role\":\"tool\",\"tool_call_id\":\"c9\",\"content\":\"r\"}"))));
        assertEquals("messages[2].role", param(sanitize, exchange(chat("{\"role\":\"user\",\"content\":\"u\"},"
                + call + ",{\"role\":\"user\",\"content\":\"next\"}"))));
    }

    @Test
    void policyDeniesOrRewrites() {
        Policy policy = new Policy();
        policy.setKeywords("secret project, forbidden");
        policy.setRegex("(?i)\\bpass(word)?\\s*[:=]");
        OpenAiError denied = assertThrows(OpenAiError.class, () -> policy.process(
                exchange(chat("{\"role\":\"user\",\"content\":\"ok\"},{\"role\":\"user\",\"content\":\"The SECRET  project\"}"))));
        assertEquals(400, denied.status());
        assertEquals("content_policy", denied.code());
        assertEquals("messages[1].content", denied.toJson().at("/error/param").asText());
        assertEquals("invalid_request_error", denied.type());
        run(policy, exchange(chat("{\"role\":\"user\",\"content\":\"forbiddenness is a word\"}")));

        policy.setMode("rewrite");
        policy.setReplacement("***");
        Exchange exchange = exchange(chat("{\"role\":\"user\",\"content\":\"forbidden: password= x\"}"));
        run(policy, exchange);
        assertEquals("***: *** x", body(exchange).at("/messages/0/content").asText());
    }

    @Test
    void setParamsRewritesModelsAddsDefaultsAndCaps() {
        SetParams params = new SetParams();
        params.setModels("gpt-4=gpt-4o-mini, llama=llama3.2:latest");
        params.setDefaults("temperature=0.7, max_tokens=512, user=gateway, stream=false");
        params.setCeilings("max_tokens=1024, temperature=1.2, top_p=0.9");
        Exchange exchange = exchange("{\"model\":\"gpt-4\",\"temperature\":1.9,\"top_p\":0.5,"
                + "\"max_completion_tokens\":4000,\"messages\":[]}");
        run(params, exchange);
        JsonNode request = body(exchange);
        assertEquals("gpt-4o-mini", request.path("model").asText());
        assertEquals(1.2, request.path("temperature").asDouble());
        assertEquals(0.5, request.path("top_p").asDouble());
        assertEquals(1024, request.path("max_completion_tokens").asInt());
        assertTrue(request.path("max_completion_tokens").isIntegralNumber());
        assertTrue(request.path("max_tokens").isMissingNode(), "no second budget next to max_completion_tokens");
        assertEquals("gateway", request.path("user").asText());
        assertTrue(request.path("stream").isBoolean());

        Exchange other = exchange("{\"model\":\"mistral\",\"messages\":[]}");
        run(params, other);
        assertEquals("mistral", body(other).path("model").asText());
        assertEquals(512, body(other).path("max_tokens").asInt());
        assertEquals(0.7, body(other).path("temperature").asDouble());
    }

    @Test
    void callOutAnswersShapeTheRequest() {
        ObjectNode request = (ObjectNode) Json.MAPPER.valueToTree(java.util.Map.of("model", "m"));
        request.putArray("messages").addObject().put("role", "user").put("content", "hi");
        CallOutAnswer.apply(json("{\"system\":\"Be brief.\"}"), request);
        assertEquals("system", request.at("/messages/0/role").asText());
        CallOutAnswer.apply(json("{\"system\":\"User likes cats.\",\"set\":{\"temperature\":0.1,\"model\":null}}"),
                request);
        assertEquals("Be brief.\n\nUser likes cats.", request.at("/messages/0/content").asText());
        assertEquals(2, request.get("messages").size());
        assertEquals(0.1, request.get("temperature").asDouble());
        assertTrue(request.path("model").isMissingNode());
        CallOutAnswer.apply(json("{\"messages\":[{\"role\":\"user\",\"content\":\"replaced\"}]}"), request);
        assertEquals("replaced", request.at("/messages/0/content").asText());
        OpenAiError denied = assertThrows(OpenAiError.class,
                () -> CallOutAnswer.apply(json("{\"verdict\":\"deny\",\"reason\":\"self-harm\"}"), request));
        assertEquals("content_policy", denied.code());
        assertTrue(denied.getMessage().endsWith("self-harm"), denied.getMessage());
    }

    @Test
    void theCallOutSignatureIsHmacSha256OfTimestampDotBody() {
        // the same as: python3 -c "import hmac,hashlib; print(hmac.new(b'suite-secret',
        //   b'1700000000.{\"a\":1}', hashlib.sha256).hexdigest())"
        assertEquals("sha256=ea34313ab53f7b9b747f141d60f0aaf58563ebd70fe020de4dcec782621a1fbd",
                CallOutSignature.sign("suite-secret", 1_700_000_000L, "{\"a\":1}".getBytes(StandardCharsets.UTF_8)));
    }

    private static String chat(String messages) {
        return "{\"model\":\"m\",\"messages\":[" + messages + "]}";
    }

    private static String param(Processor step, Exchange exchange) {
        OpenAiError error = assertThrows(OpenAiError.class, () -> step.process(exchange));
        assertEquals(400, error.status());
        return error.toJson().at("/error/param").asText();
    }

    private static Exchange exchange(String json) {
        Exchange exchange = new DefaultExchange(CAMEL);
        exchange.getMessage().setBody(json(json));
        return exchange;
    }

    private static ObjectNode body(Exchange exchange) {
        return exchange.getMessage().getBody(ObjectNode.class);
    }

    private static ObjectNode json(String text) {
        try {
            return (ObjectNode) Json.MAPPER.readTree(text);
        } catch (Exception e) {
            throw new AssertionError(text, e);
        }
    }

    private static void run(Processor step, Exchange exchange) {
        try {
            step.process(exchange);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
