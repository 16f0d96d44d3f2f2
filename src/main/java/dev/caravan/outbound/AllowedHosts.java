package dev.caravan.outbound;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which destinations the gateway may call for a client (CALLBACK_ALLOWED_HOSTS): comma-separated host names,
 * {@code *.example.com} (any subdomain), IP addresses and CIDR ranges, and {@code *} (any public host).
 *
 * <p>Empty, it allows any host whose addresses are all public. Set, it allows only what it lists, plus any public
 * host when it holds {@code *}. Loopback, private, link-local, shared (CGNAT), unspecified, multicast and reserved
 * addresses pass only when listed: by their IP or range, or by the exact name or {@code *.} domain the URL names.
 * Judged on the resolved addresses, so a public-looking name that resolves to 127.0.0.1 is refused.
 */
public final class AllowedHosts {

    /** Addresses that reach the gateway's own machine or network rather than the client's service. */
    private static final List<AddressRange> INTERNAL = List.of(
            AddressRange.parse("0.0.0.0/8"), AddressRange.parse("10.0.0.0/8"), AddressRange.parse("100.64.0.0/10"),
            AddressRange.parse("127.0.0.0/8"), AddressRange.parse("169.254.0.0/16"),
            AddressRange.parse("172.16.0.0/12"), AddressRange.parse("192.168.0.0/16"),
            AddressRange.parse("224.0.0.0/4"), AddressRange.parse("240.0.0.0/4"),
            // ::, ::1 and the IPv4-compatible ::a.b.c.d; unique local; link-local; old site-local; multicast
            AddressRange.parse("::/96"), AddressRange.parse("fc00::/7"), AddressRange.parse("fe80::/10"),
            AddressRange.parse("fec0::/10"), AddressRange.parse("ff00::/8"));

    private final Set<String> names;
    private final List<String> domainSuffixes;
    private final List<AddressRange> ranges;
    private final boolean anyPublic;
    private final String setting;

    private AllowedHosts(Set<String> names, List<String> domainSuffixes, List<AddressRange> ranges, boolean anyPublic,
                         String setting) {
        this.names = names;
        this.domainSuffixes = domainSuffixes;
        this.ranges = ranges;
        this.anyPublic = anyPublic;
        this.setting = setting;
    }

    /**
     * @param list    the comma-separated entries (blank: any public host)
     * @param setting the setting's name, for messages
     * @throws IllegalArgumentException naming an entry that is not a host, {@code *.domain}, address or range
     */
    public static AllowedHosts parse(String list, String setting) {
        Set<String> names = new HashSet<>();
        List<String> suffixes = new ArrayList<>();
        List<AddressRange> ranges = new ArrayList<>();
        boolean anyPublic = list == null || list.isBlank();
        if (!anyPublic) {
            for (String raw : list.split(",")) {
                String entry = normalise(raw);
                if (entry.isEmpty()) {
                    continue;
                }
                if (entry.equals("*")) {
                    anyPublic = true;
                } else if (entry.startsWith("*.") && entry.indexOf('*', 1) < 0 && entry.length() > 2) {
                    suffixes.add(entry.substring(1)); // ".example.com": subdomains, not the domain itself
                } else if (entry.indexOf('*') >= 0) {
                    throw new IllegalArgumentException(setting + ": '" + raw.trim()
                            + "' is not allowed: a wildcard may only lead, as in *.example.com");
                } else if (entry.indexOf('/') >= 0 || AddressRange.isLiteral(unbracketed(entry))) {
                    try {
                        ranges.add(AddressRange.parse(entry));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException(setting + ": " + e.getMessage());
                    }
                } else {
                    names.add(entry);
                }
            }
        }
        return new AllowedHosts(Set.copyOf(names), List.copyOf(suffixes), List.copyOf(ranges), anyPublic, setting);
    }

    /** True when the URL's host itself is listed (by exact name or {@code *.} domain): then any address goes. */
    boolean listsName(String host) {
        String name = normalise(host);
        if (names.contains(name)) {
            return true;
        }
        for (String suffix : domainSuffixes) {
            if (name.endsWith(suffix)) {
                return true;
            }
        }
        return false;
    }

    /** Why this resolved address may not be called for an unlisted name, or null when it may. */
    String refusal(String host, InetAddress address) {
        for (AddressRange range : ranges) {
            if (range.contains(address)) {
                return null;
            }
        }
        if (isInternal(address)) {
            return "'" + shortened(host) + "' is a loopback, private, link-local or otherwise internal address ("
                    + address.getHostAddress() + "), which " + setting + " does not list";
        }
        return anyPublic ? null : "'" + shortened(host) + "' is not listed in " + setting;
    }

    static boolean isInternal(InetAddress address) {
        for (AddressRange range : INTERNAL) {
            if (range.contains(address)) {
                return true;
            }
        }
        return false;
    }

    private static String normalise(String host) {
        String name = host.trim().toLowerCase(Locale.ROOT);
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    static String unbracketed(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /** A client's value in a message: a short prefix only. */
    private static String shortened(String value) {
        return value.length() <= 64 ? value : value.substring(0, 64) + "…";
    }
}
