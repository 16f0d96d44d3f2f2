package dev.caravan.steps;

/** Control characters (C0, DEL, C1) out of a text; tab, newline and carriage return stay. */
final class ControlCharacters {

    private ControlCharacters() {
    }

    static String strip(String text) {
        int first = firstControl(text);
        if (first < 0) {
            return text; // the common case: no copy
        }
        StringBuilder clean = new StringBuilder(text.length()).append(text, 0, first);
        for (int i = first; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!isStripped(c)) {
                clean.append(c);
            }
        }
        return clean.toString();
    }

    private static int firstControl(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (isStripped(text.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isStripped(char c) {
        return Character.isISOControl(c) && c != '\n' && c != '\t' && c != '\r';
    }
}
