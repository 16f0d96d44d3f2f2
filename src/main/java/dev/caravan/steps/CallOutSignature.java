package dev.caravan.steps;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The signature of a call-out (SUITE_SHARED_SECRET): header {@code x-caravan-timestamp} is the Unix time in seconds,
 * header {@code x-caravan-signature} is {@code sha256=} and the lower-case hex HMAC-SHA256, keyed with the secret's
 * UTF-8 bytes, of the timestamp's ASCII digits, one '.', and the raw body bytes exactly as sent.
 */
public final class CallOutSignature {

    public static final String TIMESTAMP_HEADER = "x-caravan-timestamp";
    public static final String SIGNATURE_HEADER = "x-caravan-signature";

    private CallOutSignature() {
    }

    /** "sha256=<hex>" for this secret, timestamp and body. */
    public static String sign(String secret, long timestampSeconds, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update(Long.toString(timestampSeconds).getBytes(StandardCharsets.US_ASCII));
            mac.update((byte) '.');
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }
}
