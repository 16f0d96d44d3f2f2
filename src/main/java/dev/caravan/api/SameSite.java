package dev.caravan.api;

import java.util.Locale;

/**
 * Whether a browser's Origin names the gateway's own site: the same host and port as the Host header the
 * browser sent, where localhost, 127.0.0.1 and [::1] count as one host.
 */
final class SameSite {

    private SameSite() {
    }

    static boolean is(String origin, String host) {
        if (host == null) {
            return false;
        }
        int scheme = origin.indexOf("://");
        if (scheme < 0) {
            return false; // "null" (a sandboxed or file page) and anything unparseable
        }
        String authority = origin.substring(scheme + 3);
        int slash = authority.indexOf('/');
        if (slash >= 0) {
            authority = authority.substring(0, slash);
        }
        boolean https = origin.regionMatches(true, 0, "https", 0, 5);
        String originHost = hostOf(authority);
        String originPort = portOf(authority, https ? "443" : "80");
        String ownHost = hostOf(host.trim());
        String ownPort = portOf(host.trim(), https ? "443" : "80");
        if (!originPort.equals(ownPort)) {
            return false;
        }
        return originHost.equals(ownHost) || loopback(originHost) && loopback(ownHost);
    }

    private static String hostOf(String authority) {
        int colon = authority.startsWith("[") ? authority.indexOf("]:") + 1 : authority.lastIndexOf(':');
        return (colon > 0 ? authority.substring(0, colon) : authority).toLowerCase(Locale.ROOT);
    }

    private static String portOf(String authority, String fallback) {
        int colon = authority.startsWith("[") ? authority.indexOf("]:") + 1 : authority.lastIndexOf(':');
        return colon > 0 ? authority.substring(colon + 1) : fallback;
    }

    private static boolean loopback(String host) {
        return host.equals("localhost") || host.equals("127.0.0.1") || host.equals("[::1]");
    }
}
