package dev.caravan.steps;

import java.util.regex.Pattern;

/**
 * The kinds of personal data pii-redact finds: each a pattern for candidates and, for cards and IBANs, a checksum
 * a candidate must pass (so an order number or a timestamp is not redacted as a card).
 */
enum PiiKind {

    EMAIL("(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"),
    IBAN("(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])"),
    /** 13 to 19 digits unbroken, or in the groups cards are printed in: 4-4-4-4(-3), 4-6-5, 4-6-4. */
    CARD("(?<![0-9-])(?:[0-9]{13,19}|[0-9]{4}([ -])[0-9]{4}\\1[0-9]{4}\\1[0-9]{4}(?:\\1[0-9]{3})?"
            + "|[0-9]{4}([ -])[0-9]{6}\\2[0-9]{4,5})(?![0-9])"),
    /** 9 to 15 digits, or 7 and more after a '+' or an area code in parentheses: a date (8 digits) is no phone. */
    PHONE("(?<![A-Za-z0-9_+])(?:\\+[0-9]{1,3}[ .-]?)?(?:\\([0-9]{1,4}\\)[ .-]?)?[0-9]{2,4}(?:[ .-]?[0-9]{2,4}){1,5}"
            + "(?![A-Za-z0-9_])");

    final Pattern pattern;

    PiiKind(String regex) {
        this.pattern = Pattern.compile(regex);
    }

    /**
     * The end of the valid match within a candidate [start, end), or -1: cards must pass the Luhn check; IBANs
     * the mod-97 check, tried on the whole candidate and then without its trailing groups (an IBAN followed by a
     * word in capitals is a longer candidate); phones must have enough digits.
     */
    int validEnd(CharSequence text, int start, int end) {
        return switch (this) {
            case EMAIL -> end;
            case PHONE -> phoneDigits(text, start, end);
            case CARD -> luhn(text, start, end) ? end : -1;
            case IBAN -> {
                int e = end;
                while (e > start) {
                    if (iban(text, start, e)) {
                        yield e;
                    }
                    e = lastSeparator(text, start, e);
                }
                yield -1;
            }
        };
    }

    private static int lastSeparator(CharSequence text, int start, int end) {
        for (int i = end - 1; i > start; i--) {
            char c = text.charAt(i);
            if (c == ' ') {
                return i;
            }
        }
        return start;
    }

    private static int phoneDigits(CharSequence text, int start, int end) {
        int digits = 0;
        for (int i = start; i < end; i++) {
            if (Character.isDigit(text.charAt(i))) {
                digits++;
            }
        }
        char first = text.charAt(start);
        int min = first == '+' || first == '(' ? 7 : 9;
        return digits >= min && digits <= 15 ? end : -1;
    }

    /** The Luhn check over the digits of [start, end): 13 to 19 digits whose weighted sum is a multiple of 10. */
    static boolean luhn(CharSequence text, int start, int end) {
        int sum = 0;
        int digits = 0;
        boolean twice = false;
        for (int i = end - 1; i >= start; i--) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                continue;
            }
            int d = c - '0';
            if (twice) {
                d *= 2;
                if (d > 9) {
                    d -= 9;
                }
            }
            sum += d;
            twice = !twice;
            digits++;
        }
        return digits >= 13 && digits <= 19 && sum % 10 == 0;
    }

    /**
     * The IBAN check (ISO 13616) over [start, end) without spaces: 15 to 34 characters, the first four moved to the
     * end, letters as 10..35, the number mod 97 is 1.
     */
    static boolean iban(CharSequence text, int start, int end) {
        StringBuilder compact = new StringBuilder(34);
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            if (c != ' ') {
                compact.append(c);
            }
        }
        if (compact.length() < 15 || compact.length() > 34) {
            return false;
        }
        String rotated = compact.substring(4) + compact.substring(0, 4);
        int remainder = 0;
        for (int i = 0; i < rotated.length(); i++) {
            char c = rotated.charAt(i);
            int value = Character.isDigit(c) ? c - '0' : c - 'A' + 10;
            remainder = value > 9 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
        }
        return remainder == 1;
    }
}
