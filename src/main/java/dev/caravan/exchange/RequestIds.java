package dev.caravan.exchange;

import java.util.concurrent.ThreadLocalRandom;

/** Request ids: the client's x-request-id when it is sane (short, printable ASCII), else a new random one. */
public final class RequestIds {

    private static final int MAX_LENGTH = 128;

    private RequestIds() {
    }

    /** @param fromClient the client's x-request-id, or null */
    public static String accept(String fromClient) {
        return fromClient == null || fromClient.isBlank() || fromClient.length() > MAX_LENGTH || !printable(fromClient)
                ? generate()
                : fromClient;
    }

    public static String generate() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return "req_" + Long.toHexString(random.nextLong() | Long.MIN_VALUE)
                + Long.toHexString(random.nextLong() | Long.MIN_VALUE);
    }

    private static boolean printable(String id) {
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }
}
