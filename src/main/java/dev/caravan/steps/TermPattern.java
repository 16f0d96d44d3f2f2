package dev.caravan.steps;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

/**
 * A keyword list ("a, b c, d": case-insensitive whole words and phrases) and a regex, as one compiled pattern;
 * null when both are empty.
 */
final class TermPattern {

    private TermPattern() {
    }

    static Pattern of(String keywords, String regex, String what) {
        List<String> alternatives = new ArrayList<>();
        if (keywords != null) {
            for (String keyword : keywords.split(",")) {
                if (!keyword.isBlank()) {
                    String body = Arrays.stream(keyword.trim().toLowerCase(Locale.ROOT).split("\\s+"))
                            .map(Pattern::quote).collect(Collectors.joining("\\s+"));
                    alternatives.add("(?i:(?<![\\p{L}\\p{N}_])" + body + "(?![\\p{L}\\p{N}_]))");
                }
            }
        }
        if (regex != null && !regex.isBlank()) {
            try {
                Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException(what + ": bad regex: " + e.getDescription());
            }
            alternatives.add("(?:" + regex + ")");
        }
        return alternatives.isEmpty() ? null : Pattern.compile(String.join("|", alternatives), Pattern.UNICODE_CASE);
    }
}
