package dev.caravan.openai;

/**
 * A token count for when an upstream reports none: about four characters a token for English text, which is
 * what OpenAI documents as the rule of thumb. Used only as a last resort; real counts always win.
 */
public final class TokenEstimate {

    private TokenEstimate() {
    }

    public static long of(CharSequence text) {
        if (text == null || text.length() == 0) {
            return 0;
        }
        return Math.max(1, (text.length() + 3) / 4);
    }
}
