package dev.caravan.outbound;

/** An outbound URL the gateway will not call for a client; the message says why, without the URL's credentials. */
public final class RefusedDestination extends RuntimeException {

    RefusedDestination(String message) {
        super(message, null, false, false);
    }
}
