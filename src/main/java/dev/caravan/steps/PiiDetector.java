package dev.caravan.steps;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;

/**
 * Finds personal data (the enabled {@link PiiKind}s) in a text and replaces it with a placeholder, in which
 * "{KIND}" stands for the kind's name (EMAIL, PHONE, CARD, IBAN): "[{KIND}]" gives "[EMAIL]"; "[REDACTED]" hides the
 * kind too. For streams it also says how much of a text's end could still become a match as more text arrives.
 */
final class PiiDetector {

    /** The longest tail a stream holds back: a longer match may pass unredacted when it spans chunks. */
    static final int MAX_HOLD = 128;

    record Span(int start, int end, PiiKind kind) {
    }

    private final List<PiiKind> kinds;
    private final String[] placeholders = new String[PiiKind.values().length];

    PiiDetector(Set<PiiKind> kinds, String placeholder) {
        this.kinds = List.copyOf(EnumSet.copyOf(kinds)); // enum order: email, iban, card, phone (the priority)
        for (PiiKind kind : PiiKind.values()) {
            placeholders[kind.ordinal()] = placeholder.replace("{KIND}", kind.name());
        }
    }

    /** "email,phone,card,iban" (any subset, any order). */
    static Set<PiiKind> kinds(String list) {
        Set<PiiKind> kinds = EnumSet.noneOf(PiiKind.class);
        for (String name : list.split(",")) {
            if (!name.isBlank()) {
                try {
                    kinds.add(PiiKind.valueOf(name.trim().toUpperCase(Locale.ROOT)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("pii-redact kind must be email, phone, card or iban, not "
                            + name.trim());
                }
            }
        }
        if (kinds.isEmpty()) {
            throw new IllegalArgumentException("pii-redact needs at least one kind");
        }
        return kinds;
    }

    /** The matches in the text, without overlaps (an earlier kind wins), in text order. */
    List<Span> find(CharSequence text) {
        List<Span> spans = new ArrayList<>();
        // an IBAN-shaped candidate that fails its check is an account number of some kind: no card or phone inside
        List<Span> taken = new ArrayList<>();
        for (PiiKind kind : kinds) {
            Matcher m = kind.pattern.matcher(text);
            int from = 0;
            while (from < text.length() && m.find(from)) {
                int end = kind.validEnd(text, m.start(), m.end());
                if (end > m.start() && !overlaps(taken, m.start(), end)) {
                    Span span = new Span(m.start(), end, kind);
                    spans.add(span);
                    taken.add(span);
                } else if (end < 0 && kind == PiiKind.IBAN) {
                    taken.add(new Span(m.start(), m.end(), kind));
                }
                // past the whole candidate: a part of a number that failed is not tried on its own
                from = Math.max(end, m.end());
            }
        }
        spans.sort((a, b) -> Integer.compare(a.start(), b.start()));
        return spans;
    }

    private static boolean overlaps(List<Span> spans, int start, int end) {
        for (Span s : spans) {
            if (start < s.end() && s.start() < end) {
                return true;
            }
        }
        return false;
    }

    String redact(String text) {
        if (text.isEmpty()) {
            return text;
        }
        List<Span> spans = find(text);
        return spans.isEmpty() ? text : replace(text, spans, text.length());
    }

    /** The text up to {@code upTo} with the spans inside it replaced. */
    String replace(CharSequence text, List<Span> spans, int upTo) {
        StringBuilder out = new StringBuilder(upTo + 16);
        int at = 0;
        for (Span s : spans) {
            if (s.end() > upTo) {
                break;
            }
            out.append(text, at, s.start()).append(placeholders[s.kind().ordinal()]);
            at = s.end();
        }
        return out.append(text, at, upTo).toString();
    }

    /**
     * Where the part of the text that could still grow into a match (or into a longer one) begins: the text before
     * it is final. Tries each start in the last {@link #MAX_HOLD} characters; a start holds when a kind's pattern
     * read to the end of the text there (more text could change its answer).
     */
    int holdFrom(CharSequence text, List<Span> spans) {
        int length = text.length();
        int hold = length;
        Matcher[] matchers = new Matcher[kinds.size()];
        for (int k = 0; k < matchers.length; k++) {
            matchers[k] = kinds.get(k).pattern.matcher(text).useTransparentBounds(true).useAnchoringBounds(false);
        }
        for (int i = Math.max(0, length - MAX_HOLD); i < length && hold == length; i++) {
            for (Matcher m : matchers) {
                m.region(i, length);
                m.lookingAt();
                if (m.hitEnd()) {
                    hold = i;
                    break;
                }
            }
        }
        for (Span s : spans) { // a match that the hold point would cut goes out whole, later
            if (s.start() < hold && hold < s.end()) {
                hold = s.start();
            }
        }
        return hold;
    }
}
