package dev.caravan.resilience;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

import org.apache.camel.Exchange;
import org.apache.camel.spi.Synchronization;
import org.apache.camel.spi.UnitOfWork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Frees what a lane visit holds when the request leaves that lane for a fallback. The lane's gate slot and its
 * Throttle permit are on-completion callbacks of the exchange (they free themselves when the whole request ends);
 * a fallback runs on the same exchange, so without this the failed backend's slot would stay taken for as long as
 * the fallback model streams. {@link #mark} notes the callbacks registered before the lane visit; {@link
 * #releaseSince} runs (as failed) and removes those registered since, which are the lane's.
 */
final class LaneSlots {

    private static final Logger LOG = LoggerFactory.getLogger(LaneSlots.class);
    private static final String MARK = "CaravanLaneMark";

    private LaneSlots() {
    }

    static void mark(Exchange exchange) {
        UnitOfWork uow = exchange.getUnitOfWork();
        if (uow == null) {
            return;
        }
        Set<Synchronization> before = Collections.newSetFromMap(new IdentityHashMap<>());
        // handoverSynchronization with a filter that refuses every one is the UnitOfWork's only way to list them
        uow.handoverSynchronization(exchange, s -> {
            before.add(s);
            return false;
        });
        exchange.setProperty(MARK, before);
    }

    /** Releases what the lane visit since {@link #mark} registered; returns how many callbacks ran. */
    @SuppressWarnings("unchecked")
    static int releaseSince(Exchange exchange) {
        Set<Synchronization> before = exchange.getProperty(MARK, Set.class);
        UnitOfWork uow = exchange.getUnitOfWork();
        exchange.removeProperty(MARK);
        if (before == null || uow == null) {
            return 0;
        }
        List<Synchronization> since = new ArrayList<>(2);
        uow.handoverSynchronization(exchange, s -> {
            if (!before.contains(s)) {
                since.add(s);
            }
            return false;
        });
        for (Synchronization synchronization : since) {
            uow.removeSynchronization(synchronization);
            try {
                synchronization.onFailure(exchange);
            } catch (RuntimeException e) {
                LOG.warn("Releasing a lane's hold on request {} failed: {}", exchange.getExchangeId(), e.toString());
            }
        }
        return since.size();
    }
}
