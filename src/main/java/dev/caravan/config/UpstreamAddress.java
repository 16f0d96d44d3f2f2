package dev.caravan.config;

import java.net.URI;
import java.util.Locale;

/**
 * An upstream's base URL reduced to what tells two backends apart: scheme, host and port (defaults made explicit)
 * and the path without a trailing "/" or "/v1" (an OpenAI-type url may name it or not).
 */
final class UpstreamAddress {

    private UpstreamAddress() {
    }

    static String of(String url) {
        String trimmed = url.trim();
        try {
            URI uri = URI.create(trimmed);
            if (uri.getScheme() == null || uri.getHost() == null) {
                return trimmed.toLowerCase(Locale.ROOT);
            }
            String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
            int port = uri.getPort() >= 0 ? uri.getPort() : "https".equals(scheme) ? 443 : 80;
            String path = uri.getRawPath() == null ? "" : uri.getRawPath();
            while (path.endsWith("/")) {
                path = path.substring(0, path.length() - 1);
            }
            if (path.endsWith("/v1")) {
                path = path.substring(0, path.length() - 3);
            }
            return scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + ":" + port + path;
        } catch (IllegalArgumentException e) {
            return trimmed.toLowerCase(Locale.ROOT);
        }
    }
}
