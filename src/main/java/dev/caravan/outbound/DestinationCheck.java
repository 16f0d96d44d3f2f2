package dev.caravan.outbound;

import java.net.InetAddress;
import java.net.URI;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * The one check of a URL the gateway calls on a client's behalf (task callbacks; later pipeline URLs and HTTP
 * tools): resolves its host off the event loop and judges every address against {@link AllowedHosts}. It answers
 * the address that was judged, so the caller connects to exactly that one (a second lookup could answer another).
 */
public final class DestinationCheck {

    private final Vertx vertx;
    private final AllowedHosts allowed;

    public DestinationCheck(Vertx vertx, AllowedHosts allowed) {
        this.vertx = vertx;
        this.allowed = allowed;
    }

    /** Succeeds with the address to connect to; fails with {@link RefusedDestination} saying why not. */
    public Future<InetAddress> check(URI url) {
        String raw = url.getHost();
        if (raw == null || raw.isEmpty()) {
            return Future.failedFuture(new RefusedDestination("the URL has no host"));
        }
        String host = AllowedHosts.unbracketed(raw);
        if (AddressRange.isLiteral(host)) {
            try {
                return judge(raw, false, new InetAddress[] {AddressRange.literal(host)}); // a literal: no lookup
            } catch (IllegalArgumentException e) {
                return Future.failedFuture(new RefusedDestination("'" + raw + "' is not a valid address"));
            }
        }
        boolean listedName = allowed.listsName(host);
        // DNS blocks: never on the event loop
        return vertx.executeBlocking(() -> InetAddress.getAllByName(host), false)
                .recover(e -> Future.failedFuture(new RefusedDestination("'" + raw + "' does not resolve")))
                .compose(addresses -> judge(raw, listedName, addresses));
    }

    private Future<InetAddress> judge(String host, boolean listedName, InetAddress[] addresses) {
        if (!listedName) {
            for (InetAddress address : addresses) { // every one: the client must not get to pick the internal one
                String refusal = allowed.refusal(host, address);
                if (refusal != null) {
                    return Future.failedFuture(new RefusedDestination(refusal));
                }
            }
        }
        return Future.succeededFuture(addresses[0]);
    }
}
