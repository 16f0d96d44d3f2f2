package dev.caravan.config;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;

import dev.caravan.support.Calls;
import dev.caravan.support.GatewayInstance;
import dev.caravan.support.LogCapture;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Configuration fails closed (issue 6, item 8): gateway.yaml deleted, moved away, emptied, or edited down to no
 * key at all while the gateway runs leaves the last good configuration in force, keys included, with a WARN;
 * auth never turns off. Without keys and without HOST, the gateway listens on loopback only.
 */
class FailClosedConfigTest {

    private static final Duration DEADLINE = Duration.ofSeconds(10);
    private static final String WITH_KEY = """
            backends:
              local: {type: local}
            models:
              caravan-echo: {backend: local}
            keys:
              - {key: sk-fail-closed, name: guarded}
            """;

    @RegisterExtension
    final LogCapture logs = LogCapture.perTest();

    private void awaitWarn(String fragment, int count) {
        HotReloadTest.awaitValue("a WARN containing '" + fragment + "' (" + count + ")",
                () -> logs.count(e -> e.level() == Level.WARN && e.message().contains(fragment)), n -> n >= count,
                DEADLINE);
    }

    private static void guarded(GatewayInstance gateway) {
        HttpResponse<String> anonymous = Calls.chat(gateway, "caravan-echo");
        assertEquals(401, anonymous.statusCode(), "auth stays on: " + anonymous.body());
        HttpResponse<String> keyed = Calls.chat(gateway, "caravan-echo", "Authorization", "Bearer sk-fail-closed");
        assertEquals(200, keyed.statusCode(), "the key stays valid: " + keyed.body());
    }

    @Test
    void deletingMovingOrEmptyingGatewayYamlKeepsTheLastGoodConfiguration() throws Exception {
        try (GatewayInstance gateway = GatewayInstance.builder().config(WITH_KEY).start()) {
            guarded(gateway);

            Files.move(gateway.configFile(), gateway.configFile().resolveSibling("moved-away.yaml"));
            awaitWarn("is gone", 1);
            guarded(gateway);

            gateway.writeConfig("");
            awaitWarn("is empty", 1);
            guarded(gateway);

            gateway.writeConfig("# nothing but a comment\n");
            awaitWarn("is empty", 2);
            guarded(gateway);

            gateway.writeConfig("""
                    backends:
                      local: {type: local}
                    models:
                      caravan-echo: {backend: local}
                    """);
            awaitWarn("would turn auth off", 1);
            guarded(gateway);

            gateway.writeConfig(WITH_KEY.replace("sk-fail-closed", "sk-next"));
            HotReloadTest.awaitValue("the edited key to take effect", () -> Calls.chat(gateway, "caravan-echo",
                    "Authorization", "Bearer sk-next").statusCode(), status -> status == 200, DEADLINE);
            assertEquals(401, Calls.chat(gateway, "caravan-echo").statusCode());
        }
    }

    @Test
    void withKeysInApiKeysJsonAnEditDroppingTheFilesKeysApplies() throws Exception {
        try (GatewayInstance gateway = GatewayInstance.builder().config(WITH_KEY)
                .property("gateway.api-keys-json", "[{\"key\":\"sk-from-env\",\"name\":\"env\"}]").start()) {
            guarded(gateway);
            gateway.writeConfig("""
                    backends:
                      local: {type: local}
                    models:
                      caravan-echo: {backend: local}
                    """);
            // auth stays on through API_KEYS_JSON, so the edit is no threat: the file's key goes, the env key stays
            HotReloadTest.awaitValue("the file's key to be dropped", () -> Calls.chat(gateway, "caravan-echo",
                    "Authorization", "Bearer sk-fail-closed").statusCode(), status -> status == 401, DEADLINE);
            assertEquals(200, Calls.chat(gateway, "caravan-echo", "Authorization", "Bearer sk-from-env").statusCode());
            assertEquals(401, Calls.chat(gateway, "caravan-echo").statusCode());
        }
    }

    @Test
    void withoutKeysAndWithoutHostTheGatewayListensOnLoopbackOnly() throws Exception {
        try (GatewayInstance open = GatewayInstance.builder().property("camel.server.host", "auto").start()) {
            assertEquals(200, Calls.chat(open, "caravan-echo").statusCode(), "127.0.0.1 serves");
            // 127.0.0.2 is loopback too, but not the address 127.0.0.1: a server on 0.0.0.0 would accept it
            assertThrows(ConnectException.class, () -> connect("127.0.0.2", open.port()));
            assertNotNull(logs.find(e -> e.level() == Level.WARN && e.message().contains("127.0.0.1 ONLY")));
        }
        try (GatewayInstance guarded = GatewayInstance.builder().config(WITH_KEY)
                .property("camel.server.host", "auto").start()) {
            connect("127.0.0.2", guarded.port()); // with keys, every interface
        }
    }

    private static void connect(String host, int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 2_000);
        }
    }
}
