package dev.caravan.backend.local;

import java.io.IOException;
import java.io.InputStream;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * BERT's uncased WordPiece tokenizer, as a Hugging Face {@code tokenizer.json} describes it (BertNormalizer,
 * BertPreTokenizer, WordPiece, [CLS] … [SEP], right truncation), in plain Java: the native Rust tokenizer it
 * replaces weighed 14 MB per platform in the jar. Same ids as the Hugging Face tokenizer for the same text.
 */
final class WordPieceTokenizer {

    /** The token ids of one text: [CLS], at most maxLength - 2 word pieces, [SEP]. */
    record Encoding(long[] ids, int pieces) {
    }

    private final Map<String, Integer> vocab;
    private final Map<String, Integer> specialTokens; // matched in the raw text, before normalisation
    private final int unknownId;
    private final int clsId;
    private final int sepId;
    private final int maxLength;
    private final int maxCharsPerWord;
    private final String continuation;

    private WordPieceTokenizer(Map<String, Integer> vocab, Map<String, Integer> specialTokens, String unknown,
                               int maxLength, int maxCharsPerWord, String continuation) {
        this.vocab = vocab;
        this.specialTokens = specialTokens;
        this.unknownId = vocab.get(unknown);
        this.clsId = vocab.get("[CLS]");
        this.sepId = vocab.get("[SEP]");
        this.maxLength = maxLength;
        this.maxCharsPerWord = maxCharsPerWord;
        this.continuation = continuation;
    }

    /** Reads a BERT tokenizer.json (the settings this class implements are the only ones it accepts). */
    static WordPieceTokenizer load(InputStream tokenizerJson) throws IOException {
        JsonNode root = new ObjectMapper().readTree(tokenizerJson);
        JsonNode model = root.path("model");
        JsonNode normalizer = root.path("normalizer");
        if (!"WordPiece".equals(model.path("type").asText()) || !"BertNormalizer".equals(normalizer.path("type").asText())
                || !normalizer.path("lowercase").asBoolean() || !"BertPreTokenizer".equals(
                        root.path("pre_tokenizer").path("type").asText())) {
            throw new IOException("not an uncased BERT WordPiece tokenizer");
        }
        Map<String, Integer> vocab = new HashMap<>(model.path("vocab").size() * 2);
        model.path("vocab").fields().forEachRemaining(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        Map<String, Integer> special = new HashMap<>();
        for (JsonNode token : root.path("added_tokens")) {
            if (token.path("special").asBoolean() && !token.path("normalized").asBoolean()) {
                special.put(token.path("content").asText(), token.path("id").asInt());
            }
        }
        int maxLength = root.path("truncation").path("max_length").asInt(512);
        return new WordPieceTokenizer(vocab, special, model.path("unk_token").asText("[UNK]"), maxLength,
                model.path("max_input_chars_per_word").asInt(100), model.path("continuing_subword_prefix").asText("##"));
    }

    Encoding encode(String text) {
        List<Integer> ids = new ArrayList<>();
        int from = 0;
        while (from <= text.length() && ids.size() < maxLength - 2) {
            int at = -1;
            String found = null;
            for (String special : specialTokens.keySet()) {
                int i = text.indexOf(special, from);
                if (i >= 0 && (at < 0 || i < at)) {
                    at = i;
                    found = special;
                }
            }
            wordPieces(text.substring(from, at < 0 ? text.length() : at), ids);
            if (found == null) {
                break;
            }
            ids.add(specialTokens.get(found));
            from = at + found.length();
        }
        int pieces = Math.min(ids.size(), maxLength - 2);
        long[] out = new long[pieces + 2];
        out[0] = clsId;
        for (int i = 0; i < pieces; i++) {
            out[i + 1] = ids.get(i);
        }
        out[pieces + 1] = sepId;
        return new Encoding(out, pieces);
    }

    /** Normalises a span of text (clean, CJK spacing, accents off, lower case), splits it into words, adds pieces. */
    private void wordPieces(String span, List<Integer> ids) {
        StringBuilder clean = new StringBuilder(span.length() + 8);
        span.codePoints().forEach(c -> {
            if (c == 0 || c == 0xFFFD || isControl(c)) {
                return;
            }
            if (isWhitespace(c)) {
                clean.append(' ');
            } else if (isChinese(c)) {
                clean.append(' ').appendCodePoint(c).append(' ');
            } else {
                clean.appendCodePoint(c);
            }
        });
        String text = lowerCase(stripAccents(clean.toString()));
        StringBuilder word = new StringBuilder();
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            i += Character.charCount(c);
            if (isWhitespace(c)) {
                addWord(word, ids);
            } else if (isPunctuation(c)) {
                addWord(word, ids);
                word.appendCodePoint(c);
                addWord(word, ids);
            } else {
                word.appendCodePoint(c);
            }
        }
        addWord(word, ids);
    }

    /** Greedy longest-match-first; a word that cannot be covered, or is too long, is one [UNK]. */
    private void addWord(StringBuilder wordBuilder, List<Integer> ids) {
        if (wordBuilder.length() == 0) {
            return;
        }
        String word = wordBuilder.toString();
        wordBuilder.setLength(0);
        if (word.codePointCount(0, word.length()) > maxCharsPerWord) {
            ids.add(unknownId);
            return;
        }
        int mark = ids.size();
        int start = 0;
        while (start < word.length()) {
            int end = word.length();
            Integer id = null;
            while (end > start) {
                String piece = start == 0 ? word.substring(start, end) : continuation + word.substring(start, end);
                id = vocab.get(piece);
                if (id != null) {
                    break;
                }
                end = word.offsetByCodePoints(end, -1);
            }
            if (id == null) {
                ids.subList(mark, ids.size()).clear();
                ids.add(unknownId);
                return;
            }
            ids.add(id);
            start = end;
        }
    }

    /** Character by character, as the Hugging Face normaliser does (so no final-sigma rule, unlike String's). */
    private static String lowerCase(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if (c < 128) {
                out.append((char) (c >= 'A' && c <= 'Z' ? c + 32 : c));
            } else {
                out.append(new String(Character.toChars(c)).toLowerCase(Locale.ROOT));
            }
        });
        return out.toString();
    }

    private static String stripAccents(String text) {
        String decomposed = Normalizer.normalize(text, Normalizer.Form.NFD);
        StringBuilder out = new StringBuilder(decomposed.length());
        decomposed.codePoints().forEach(c -> {
            if (Character.getType(c) != Character.NON_SPACING_MARK) {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }

    /** Tab, newline and carriage return count as whitespace, like Unicode's White_Space characters. */
    private static boolean isWhitespace(int c) {
        return switch (c) {
            case '\t', '\n', '\r', ' ', 0x0B, 0x0C, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> c >= 0x2000 && c <= 0x200A;
        };
    }

    /** Control, format, surrogate, private-use and unassigned characters (other than tab, newline, return). */
    private static boolean isControl(int c) {
        if (c == '\t' || c == '\n' || c == '\r') {
            return false;
        }
        int type = Character.getType(c);
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.SURROGATE
                || type == Character.PRIVATE_USE || type == Character.UNASSIGNED;
    }

    private static boolean isPunctuation(int c) {
        if (c < 128) {
            return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
        }
        return switch (Character.getType(c)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                 Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    private static boolean isChinese(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF)
                || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    }
}
