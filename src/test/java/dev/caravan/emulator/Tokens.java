package dev.caravan.emulator;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

import io.vertx.core.json.JsonArray;

/**
 * Small text helpers shared by the three protocols: the emulator's "tokenizer", word counting for prompt
 * token numbers, JSON string quoting (responses are assembled as text so their bytes are exactly under our
 * control), deterministic embeddings and Ollama's timestamp format.
 */
final class Tokens {

    /** The reply split once into tokens (and their JSON-quoted forms), so a request only concatenates. */
    record Reply(String text, List<String> tokens, List<String> quoted) {
        static Reply of(String text) {
            List<String> tokens = split(text);
            List<String> quoted = new ArrayList<>(tokens.size());
            for (String t : tokens) quoted.add(quote(t));
            return new Reply(text, Collections.unmodifiableList(tokens), Collections.unmodifiableList(quoted));
        }

        int size() {
            return tokens.size();
        }

        /** The first n tokens joined: the text of a reply cut by max_tokens / num_predict / max_new_tokens. */
        String prefix(int n) {
            if (n >= tokens.size()) return text;
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < n; i++) sb.append(tokens.get(i));
            return sb.toString();
        }
    }

    private Tokens() {
    }

    /**
     * Splits into words keeping the following whitespace attached ("Hello ", "from ", ..., "help?"), so that the
     * tokens concatenate back to exactly the text. Leading whitespace goes with the first word.
     */
    static List<String> split(String text) {
        List<String> out = new ArrayList<>();
        int start = 0;
        int i = 0;
        int n = text.length();
        while (i < n) {
            while (i < n && Character.isWhitespace(text.charAt(i))) i++;   // leading blanks (first token only)
            while (i < n && !Character.isWhitespace(text.charAt(i))) i++;  // the word
            while (i < n && Character.isWhitespace(text.charAt(i))) i++;  // its trailing blanks
            if (i > start) out.add(text.substring(start, i));
            start = i;
        }
        return out;
    }

    /** Whitespace-separated words: the deterministic stand-in for a tokenizer's prompt token count. */
    static int words(String s) {
        if (s == null) return 0;
        int count = 0;
        boolean inWord = false;
        for (int i = 0; i < s.length(); i++) {
            boolean ws = Character.isWhitespace(s.charAt(i));
            if (!ws && !inWord) count++;
            inWord = !ws;
        }
        return count;
    }

    /**
     * Words of a string, of an array of strings, of OpenAI content parts ([{"type":"text","text":..}]) or of an
     * already tokenized prompt (array of numbers: one token each).
     */
    static int wordsOf(Object value) {
        if (value instanceof String s) return words(s);
        if (value instanceof Number) return 1;
        if (value instanceof JsonArray arr) {
            int sum = 0;
            for (Object o : arr) {
                if (o instanceof io.vertx.core.json.JsonObject part) sum += wordsOf(part.getValue("text"));
                else sum += wordsOf(o);
            }
            return sum;
        }
        return 0;
    }

    /** JSON string literal, quotes included. Non-ASCII stays raw UTF-8, as OpenAI, vLLM, Ollama and TGI send it. */
    static String quote(String s) {
        if (s == null) return "null";
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }

    static final int EMBEDDING_DIMS = 8;

    /** Unit-length vector seeded by the text's hash: same text, same vector, in every JVM. */
    static float[] embedding(String text) {
        SplittableRandom random = new SplittableRandom(text.hashCode());
        float[] v = new float[EMBEDDING_DIMS];
        double norm = 0;
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextDouble(-1.0, 1.0);
            norm += v[i] * v[i];
        }
        norm = Math.sqrt(norm);
        for (int i = 0; i < v.length; i++) v[i] = (float) (v[i] / norm);
        return v;
    }

    static void appendFloats(StringBuilder sb, float[] v) {
        sb.append('[');
        for (int i = 0; i < v.length; i++) {
            if (i > 0) sb.append(',');
            sb.append(v[i]);
        }
        sb.append(']');
    }

    private static final DateTimeFormatter SECONDS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);

    /**
     * Ollama's created_at: Go's time.RFC3339Nano, which drops trailing zeros of the fraction
     * (e.g. "2024-10-01T12:00:00.1234567Z"), in UTC as a container runs it.
     */
    static String ollamaTime(Instant t) {
        StringBuilder sb = new StringBuilder(30).append(SECONDS.format(t));
        int nanos = t.getNano();
        if (nanos != 0) {
            String frac = String.format("%09d", nanos);
            int end = frac.length();
            while (frac.charAt(end - 1) == '0') end--;
            sb.append('.').append(frac, 0, end);
        }
        return sb.append('Z').toString();
    }
}
