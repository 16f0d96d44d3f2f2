package dev.caravan.limits;

import dev.caravan.config.ApiKeys;

/**
 * The limits of a caller: its key's {@code rate-limit-per-min}, {@code burst} and {@code tokens-per-min}, with
 * RATE_LIMIT_PER_MIN and RATE_LIMIT_BURST as the defaults of a key that does not say. Without auth, every caller
 * shares one "anonymous" request bucket at the default rate (none when RATE_LIMIT_PER_MIN is 0).
 * <ul>
 *   <li>rate-limit-per-min: requests refilled per minute; 0 = no request limit (even when the default has one).</li>
 *   <li>burst: requests that may pass at once (the bucket's size); absent or 0 = RATE_LIMIT_BURST, and when that
 *       is 0 too, the per-minute rate.</li>
 *   <li>tokens-per-min: prompt + completion tokens per minute (the bucket holds one minute's worth); absent or
 *       0 = no token limit. There is no default from the environment.</li>
 * </ul>
 */
public final class KeyLimits {

    public static final String ANONYMOUS = "anonymous";

    private final long defaultPerMin;
    private final long defaultBurst;

    public KeyLimits(long defaultPerMin, long defaultBurst) {
        this.defaultPerMin = Math.max(0, defaultPerMin);
        this.defaultBurst = Math.max(0, defaultBurst);
    }

    /** Limits of an authenticated key. */
    public Limits of(ApiKeys.Entry key) {
        Integer perMinSetting = key.config().rateLimitPerMin();
        long perMin = perMinSetting != null ? Math.max(0, perMinSetting) : defaultPerMin;
        Integer burstSetting = key.config().burst();
        long burst = burstSetting != null && burstSetting > 0 ? burstSetting : defaultBurst > 0 ? defaultBurst : perMin;
        Integer tokens = key.config().tokensPerMin();
        long tokensPerMin = tokens == null ? 0 : Math.max(0, tokens);
        return new Limits(key.id(), key.label(), perMin > 0 ? burst : 0, perMin, tokensPerMin, tokensPerMin);
    }

    /** Limits of every caller when auth is off. */
    public Limits anonymous() {
        long burst = defaultBurst > 0 ? defaultBurst : defaultPerMin;
        return new Limits(ANONYMOUS, ANONYMOUS, defaultPerMin > 0 ? burst : 0, defaultPerMin, 0, 0);
    }
}
