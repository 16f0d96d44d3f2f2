package dev.caravan.openai;

/**
 * Strict UTF-8 (RFC 3629): Jackson refuses bad start and middle bytes but lets overlong forms ({@code C0 80}) and
 * UTF-16 surrogates ({@code ED A0 80}) through, which other parsers downstream read differently.
 */
public final class Utf8 {

    private Utf8() {
    }

    /** One pass, no allocation; ASCII (the bulk of a JSON body) costs one compare a byte. */
    public static boolean isValid(byte[] bytes) {
        int i = 0;
        int n = bytes.length;
        while (i < n) {
            int b = bytes[i];
            if (b >= 0) {
                i++;
                continue;
            }
            b &= 0xff;
            int need;
            int min;
            if (b >= 0xc2 && b <= 0xdf) {
                need = 1;
                min = 0x80;
            } else if (b >= 0xe0 && b <= 0xef) {
                need = 2;
                min = 0x800;
            } else if (b >= 0xf0 && b <= 0xf4) {
                need = 3;
                min = 0x10000;
            } else {
                return false; // a continuation byte, C0/C1 (always overlong) or F5..FF
            }
            if (i + need >= n) {
                return false;
            }
            int code = b & (0x3f >> need);
            for (int k = 1; k <= need; k++) {
                int c = bytes[i + k] & 0xff;
                if ((c & 0xc0) != 0x80) {
                    return false;
                }
                code = (code << 6) | (c & 0x3f);
            }
            if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
                return false;
            }
            i += need + 1;
        }
        return true;
    }
}
