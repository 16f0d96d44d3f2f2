package dev.caravan.outbound;

import java.net.URI;
import java.util.concurrent.TimeUnit;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The outbound allow-list on real addresses and real name resolution (loopback names only: no network). */
class DestinationCheckTest {

    private static final Vertx VERTX = Vertx.vertx();

    @AfterAll
    static void close() {
        VERTX.close();
    }

    /** The refusal message, or null when the URL may be called. */
    private static String verdict(String allowList, String url) throws Exception {
        DestinationCheck check = new DestinationCheck(VERTX, AllowedHosts.parse(allowList, "CALLBACK_ALLOWED_HOSTS"));
        try {
            check.check(URI.create(url)).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            assertTrue(e.getCause() instanceof RefusedDestination, e.getCause().toString());
            return e.getCause().getMessage();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://127.0.0.1:9/x", "http://127.1.2.3/", "http://localhost:9/x", "http://10.1.2.3/",
            "http://172.16.0.1/", "http://172.31.255.255/", "http://192.168.1.1/", "http://100.64.0.1/",
            "http://169.254.169.254/latest/meta-data/", "http://0.0.0.0:9/", "http://224.0.0.1/",
            "http://255.255.255.255/", "http://[::1]:9/x", "http://[::]/", "http://[fe80::1]/", "http://[fd12::1]/",
            "http://[fc00::1]/", "http://[ff02::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:10.0.0.1]/",
            "http://u:p@127.0.0.1:9/x"})
    void internalAddressesAreRefusedUnlessListed(String url) throws Exception {
        String refusal = verdict("", url);
        assertTrue(refusal != null && refusal.contains("CALLBACK_ALLOWED_HOSTS"), url + ": " + refusal);
        assertTrue(verdict("*", url) != null, "'*' means any public host, not internal ones: " + url);
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://93.184.215.14/hook", "https://8.8.8.8:8443/x", "http://172.32.0.1/",
            "http://[2001:4860:4860::8888]/"})
    void publicAddressesPassAnEmptyListOrAStar(String url) throws Exception {
        assertNull(verdict("", url), url);
        assertNull(verdict("*", url), url);
        assertTrue(verdict("10.0.0.0/8", url).contains("is not listed"), "a set list allows only what it lists");
    }

    @Test
    void listedAddressesRangesAndNamesPass() throws Exception {
        assertNull(verdict("127.0.0.1", "http://127.0.0.1:9/x"));
        assertNull(verdict("127.0.0.1", "http://user:secret@127.0.0.1:9/x"), "user info changes nothing");
        assertNull(verdict("10.0.0.0/8", "http://10.20.30.40/"));
        assertNull(verdict("[::1]", "http://[::1]:9/"));
        assertNull(verdict("fd00::/8", "http://[fd12::1]/"));
        assertNull(verdict(" localhost. ", "http://LOCALHOST:9/"), "a listed name may resolve inward");
        assertNotNullContaining(verdict("127.0.0.1", "http://127.0.0.2/"), "internal");
        assertNotNullContaining(verdict("10.0.0.0/8,*", "http://11.0.0.1.nip.invalid/"), "does not resolve");
    }

    @Test
    void domainGlobsMatchSubdomainsOnly() {
        AllowedHosts hosts = AllowedHosts.parse("*.hooks.example.com, api.example.org", "X");
        assertTrue(hosts.listsName("a.hooks.example.com"));
        assertTrue(hosts.listsName("A.B.Hooks.Example.com."));
        assertFalse(hosts.listsName("hooks.example.com"));
        assertFalse(hosts.listsName("evilhooks.example.com"));
        assertTrue(hosts.listsName("api.example.org"));
        assertFalse(hosts.listsName("x.api.example.org"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a*.example.com", "*", "10.0.0.0/33", "10.0.0.0/x", "1.2.3.400", "*.*.example.com",
            "example.*"})
    void badEntriesStopTheStart(String entry) {
        if (entry.equals("*")) {
            AllowedHosts.parse(entry, "X"); // the one wildcard that stands alone
            return;
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AllowedHosts.parse("127.0.0.1," + entry, "CALLBACK_ALLOWED_HOSTS"));
        assertTrue(e.getMessage().startsWith("CALLBACK_ALLOWED_HOSTS"), e.getMessage());
    }

    private static void assertNotNullContaining(String message, String part) {
        assertTrue(message != null && message.contains(part), String.valueOf(message));
    }

    @Test
    void theCheckedAddressIsTheOneToCall() throws Exception {
        var address = new DestinationCheck(VERTX, AllowedHosts.parse("localhost", "X"))
                .check(URI.create("http://localhost:1/")).toCompletionStage().toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        assertTrue(address.isLoopbackAddress(), address.toString());
        assertEquals("localhost", address.getHostName());
    }
}
