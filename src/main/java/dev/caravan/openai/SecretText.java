package dev.caravan.openai;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Masks what looks like a credential in text the gateway passes on but did not write: upstream error messages
 * relayed to clients and kept in the DLQ. An upstream that echoes its Authorization header or our key must not
 * hand it to every client. Runs on failures only, never on a successful request.
 */
public final class SecretText {

    static final String MASK = "***";
    /** Longer text is cut first: no error message needs more, and it keeps the scan cheap whatever an upstream sent. */
    static final int MAX_CHARS = 2000;

    /**
     * In order: a Bearer value, a name=value or "name": "value" pair whose name says key,
     * token, secret, password and the like, URL user info, an OpenAI-style {@code sk-} key, and any long run of
     * base64 or hex (checked below for digits and letters, so long plain words stay).
     */
    private static final Pattern SECRET = Pattern.compile("(?i)"
            + "(?<scheme>\\bbearer\\s+)[^\\s\"',;]{4,}"
            + "|(?<name>(?:key|token|secret|password|passwd|pwd|passphrase|credential|credentials"
            + "|authorization|auth|signature|cookie)[\"']?\\s*[:=]\\s*[\"']?)(?:(?:bearer|basic)\\s+)?[^\\s\"'&,;)}\\]]+"
            + "|(?<userinfo>://)[^/\\s:@]+:[^/\\s@]+@"
            + "|(?<sk>\\bsk-)[a-z0-9_-]{6,}"
            + "|(?<long>[a-z0-9+/=]{24,})");

    private SecretText() {
    }

    /** The text (at most {@value #MAX_CHARS} characters of it) with every credential-looking part as {@value #MASK}. */
    public static String scrub(String text) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        if (text.length() > MAX_CHARS) {
            text = text.substring(0, MAX_CHARS) + "…";
        }
        Matcher m = SECRET.matcher(text);
        if (!m.find()) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        int last = 0;
        do {
            String kept;
            if (m.group("long") != null) {
                if (!hasDigitAndLetter(m.group("long"))) {
                    continue;
                }
                kept = "";
            } else {
                kept = m.group("scheme") != null ? m.group("scheme")
                        : m.group("name") != null ? m.group("name")
                        : m.group("userinfo") != null ? m.group("userinfo")
                        : m.group("sk");
            }
            out.append(text, last, m.start()).append(kept).append(MASK);
            if (m.group("userinfo") != null) {
                out.append('@');
            }
            last = m.end();
        } while (m.find());
        return out.append(text, last, text.length()).toString();
    }

    private static boolean hasDigitAndLetter(String run) {
        boolean digit = false;
        boolean letter = false;
        for (int i = 0; i < run.length() && !(digit && letter); i++) {
            char c = run.charAt(i);
            digit |= c >= '0' && c <= '9';
            letter |= Character.isLetter(c);
        }
        return digit && letter;
    }
}
