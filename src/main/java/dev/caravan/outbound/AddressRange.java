package dev.caravan.outbound;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IP address range in CIDR notation ({@code 10.0.0.0/8}, {@code fc00::/7}); a bare address is a /32 or /128. */
final class AddressRange {

    private final byte[] network;
    private final int prefixBits;

    private AddressRange(byte[] network, int prefixBits) {
        this.network = network;
        this.prefixBits = prefixBits;
    }

    /** Parses an address or CIDR literal; never a DNS lookup (see {@link #isLiteral}). */
    static AddressRange parse(String text) {
        String value = text.trim();
        int slash = value.indexOf('/');
        String address = slash < 0 ? value : value.substring(0, slash);
        if (address.startsWith("[") && address.endsWith("]")) {
            address = address.substring(1, address.length() - 1);
        }
        if (!isLiteral(address)) {
            throw new IllegalArgumentException("'" + text + "' is not an IP address or CIDR range");
        }
        byte[] bytes = literal(address).getAddress();
        int bits = bytes.length * 8;
        if (slash >= 0) {
            try {
                bits = Integer.parseInt(value.substring(slash + 1));
            } catch (NumberFormatException e) {
                bits = -1;
            }
            if (bits < 0 || bits > bytes.length * 8) {
                throw new IllegalArgumentException("'" + text + "' has an invalid prefix length");
            }
        }
        return new AddressRange(bytes, bits);
    }

    /**
     * The address a literal names, parsed here rather than by {@code InetAddress.getByName}, which looks up in DNS
     * whatever it does not take for a literal (such as {@code 1.2.3.400}).
     *
     * @throws IllegalArgumentException when it is not a valid literal (see {@link #isLiteral})
     */
    static InetAddress literal(String host) {
        try {
            if (host.indexOf(':') >= 0) {
                return InetAddress.getByName("[" + host + "]"); // bracketed: an IPv6 literal or an error, never DNS
            }
            String[] parts = host.split("\\.", -1);
            byte[] bytes = new byte[4];
            if (parts.length != 4) {
                throw new IllegalArgumentException("'" + host + "' is not an IP address");
            }
            for (int i = 0; i < 4; i++) {
                int value = parts[i].isEmpty() || parts[i].length() > 3 ? -1 : Integer.parseInt(parts[i]);
                if (value < 0 || value > 255) {
                    throw new IllegalArgumentException("'" + host + "' is not an IP address");
                }
                bytes[i] = (byte) value;
            }
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException | NumberFormatException e) {
            throw new IllegalArgumentException("'" + host + "' is not an IP address");
        }
    }

    /** True for an IPv4 dotted quad or anything with a colon (an IPv6 literal; host names never hold one). */
    static boolean isLiteral(String host) {
        if (host.indexOf(':') >= 0) {
            return true;
        }
        int dots = 0;
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c == '.') {
                dots++;
            } else if (c < '0' || c > '9') {
                return false;
            }
        }
        return dots == 3 && !host.isEmpty();
    }

    boolean contains(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (bytes.length != network.length) {
            return false;
        }
        int full = prefixBits / 8;
        for (int i = 0; i < full; i++) {
            if (bytes[i] != network[i]) {
                return false;
            }
        }
        int rest = prefixBits % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xFF << (8 - rest)) & 0xFF;
        return (bytes[full] & mask) == (network[full] & mask);
    }
}
