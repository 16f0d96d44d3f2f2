package dev.caravan.steps;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The detectors of pii-redact: what they find, what their checksums refuse, and what a stream holds back. */
class PiiDetectorTest {

    private final PiiDetector all = new PiiDetector(PiiDetector.kinds("email,phone,card,iban"), "[{KIND}]");

    @Test
    void luhnAcceptsRealCardNumbersOnly() {
        assertTrue(PiiKind.luhn("4111 1111 1111 1111", 0, 19));
        assertTrue(PiiKind.luhn("5500-0000-0000-0004", 0, 19));
        assertTrue(PiiKind.luhn("378282246310005", 0, 15)); // Amex, 15 digits
        assertFalse(PiiKind.luhn("4111 1111 1111 1112", 0, 19));
        assertFalse(PiiKind.luhn("0000 0000 0000", 0, 14)); // 12 digits: too short to be a card
    }

    @Test
    void ibanChecksIsoMod97() {
        assertTrue(PiiKind.iban("DE89 3704 0044 0532 0130 00", 0, 27));
        assertTrue(PiiKind.iban("GB82WEST12345698765432", 0, 22));
        assertFalse(PiiKind.iban("DE89 3704 0044 0532 0130 01", 0, 27));
    }

    @Test
    void eachKindIsReplacedByItsPlaceholder() {
        assertEquals("mail [EMAIL], call [PHONE], pay [CARD] from [IBAN].",
                all.redact("mail jane.doe+x@example.co.uk, call +49 30 1234567, pay 4111 1111 1111 1111 from "
                        + "DE89 3704 0044 0532 0130 00."));
        assertEquals("US: [PHONE] or [PHONE]", all.redact("US: (555) 123-4567 or 555-123-4567"));
    }

    @Test
    void numbersThatFailTheirChecksOrAreDatesStay() {
        String text = "order 4111 1111 1111 1112 on 2024-01-15 at 10:30, build 1.2.3, DE89 3704 0044 0532 0130 01";
        assertEquals(text, all.redact(text));
    }

    @Test
    void aCardFollowedByMoreDigitsIsStillFound() {
        assertEquals("card [CARD] 5 more", all.redact("card 4111 1111 1111 1111 5 more"));
    }

    @Test
    void aFixedPlaceholderHidesTheKindToo() {
        PiiDetector fixed = new PiiDetector(PiiDetector.kinds("email"), "[REDACTED]");
        assertEquals("write to [REDACTED] or 555-123-4567", fixed.redact("write to a@b.io or 555-123-4567"));
    }

    @Test
    void aStreamHoldsBackOnlyWhatCouldStillMatch() {
        StreamHoldback stream = new StreamHoldback(all);
        assertEquals("Plain words ", stream.next(0, "Plain words ", false));
        // a word at the very end could still be the start of an e-mail address: it waits
        assertEquals("and ", stream.next(0, "and more", false));
        assertEquals("more. ", stream.next(0, ". ", false));
    }

    @Test
    void matchesAcrossEveryChunkBoundaryAreRedacted() {
        String answer = "Reach me at jane.doe@example.com or +49 30 1234567; card 4111 1111 1111 1111, "
                + "IBAN DE89 3704 0044 0532 0130 00. Thanks!";
        String expected = all.redact(answer);
        assertEquals("Reach me at [EMAIL] or [PHONE]; card [CARD], IBAN [IBAN]. Thanks!", expected);
        for (int size = 1; size <= 9; size++) {
            StreamHoldback stream = new StreamHoldback(all);
            StringBuilder out = new StringBuilder();
            List<String> chunks = split(answer, size);
            for (int i = 0; i < chunks.size(); i++) {
                String piece = stream.next(0, chunks.get(i), i == chunks.size() - 1);
                assertFalse(piece.contains("@") || piece.matches(".*\\d{3}.*"), "chunks of " + size + ": " + piece);
                out.append(piece);
            }
            assertEquals(expected, out.toString(), "chunks of " + size);
        }
    }

    @Test
    void theFinishChunkReleasesTheTail() {
        StreamHoldback stream = new StreamHoldback(all);
        assertEquals("call ", stream.next(0, "call 555-123", false));
        assertEquals("[PHONE]", stream.next(0, "-4567", true));
    }

    @Test
    void choicesAreHeldApart() {
        StreamHoldback stream = new StreamHoldback(all);
        stream.next(0, "a@b.", false);
        assertEquals("plain ", stream.next(1, "plain ", false));
        assertEquals("[EMAIL]", stream.next(0, "io", true));
    }

    private static List<String> split(String text, int size) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < text.length(); i += size) {
            parts.add(text.substring(i, Math.min(text.length(), i + size)));
        }
        return parts;
    }
}
