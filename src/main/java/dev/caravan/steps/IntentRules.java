package dev.caravan.steps;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

/**
 * The intent classifier's rules, read from one parameter string:
 *
 * <pre>
 * coding=compile,stack trace,regex:(?i)\b(java|python|kotlin)\b; chat=hello,thanks,how are you
 * </pre>
 *
 * Rules are separated by {@code ;} and tried in the order written: the first whose label matches wins. A rule is
 * {@code label=item,item,...}; an item is a keyword or phrase (case-insensitive, whole words: "java" does not match
 * "javascript"), {@code keyword:<text>} for a keyword that starts with "regex:", or {@code regex:<Java regex>},
 * which runs to the end of its rule (so it may hold commas, and belongs last in the rule). Labels are made of
 * letters, digits, '-', '_' and '.'.
 */
final class IntentRules {

    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    record Rule(String label, Pattern pattern) {
    }

    private final List<Rule> rules;

    private IntentRules(List<Rule> rules) {
        this.rules = rules;
    }

    static IntentRules parse(String text) {
        List<Rule> rules = new ArrayList<>();
        if (text == null || text.isBlank()) {
            return new IntentRules(rules);
        }
        for (String rule : text.split(";")) {
            if (rule.isBlank()) {
                continue;
            }
            int eq = rule.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("intent rule '" + rule.trim() + "' has no '=': label=items");
            }
            String label = rule.substring(0, eq).trim();
            if (!LABEL.matcher(label).matches()) {
                throw new IllegalArgumentException("intent label '" + label + "' must be letters, digits, - _ .");
            }
            rules.add(new Rule(label, compile(label, rule.substring(eq + 1))));
        }
        return new IntentRules(rules);
    }

    /** The items of one rule as one pattern: keywords quoted between word boundaries, regexes as written. */
    private static Pattern compile(String label, String items) {
        List<String> alternatives = new ArrayList<>();
        String rest = items;
        while (!rest.isBlank()) {
            String trimmed = rest.stripLeading();
            if (trimmed.startsWith("regex:")) {
                String regex = trimmed.substring("regex:".length()).trim();
                try {
                    Pattern.compile(regex);
                } catch (PatternSyntaxException e) {
                    throw new IllegalArgumentException("intent rule " + label + ": bad regex: " + e.getDescription());
                }
                alternatives.add("(?:" + regex + ")");
                break;
            }
            int comma = trimmed.indexOf(',');
            String item = (comma < 0 ? trimmed : trimmed.substring(0, comma)).trim();
            rest = comma < 0 ? "" : trimmed.substring(comma + 1);
            if (item.startsWith("keyword:")) {
                item = item.substring("keyword:".length()).trim();
            }
            if (!item.isEmpty()) {
                alternatives.add(keyword(item));
            }
        }
        if (alternatives.isEmpty()) {
            throw new IllegalArgumentException("intent rule " + label + " has no keyword or regex");
        }
        return Pattern.compile(String.join("|", alternatives), Pattern.UNICODE_CASE);
    }

    /** A keyword or phrase, case-insensitive, not inside a longer word; the spaces of a phrase match any run. */
    private static String keyword(String item) {
        String body = java.util.Arrays.stream(item.toLowerCase(Locale.ROOT).split("\\s+")).map(Pattern::quote)
                .collect(Collectors.joining("\\s+"));
        return "(?i:(?<![\\p{L}\\p{N}_])" + body + "(?![\\p{L}\\p{N}_]))";
    }

    /** The label of the first rule that matches the text, or null. */
    String classify(CharSequence text) {
        for (Rule rule : rules) {
            if (rule.pattern().matcher(text).find()) {
                return rule.label();
            }
        }
        return null;
    }

    List<String> labels() {
        return rules.stream().map(Rule::label).toList();
    }
}
