package io.tether.session;

import io.tether.TetherException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON objects as Tether holds them: immutable {@code Map<String, Object>} trees whose
 * leaves are {@code String}, {@code Boolean}, {@code null}, {@code Long},
 * {@code BigInteger} (integers beyond {@code long}) or {@code Double}.
 *
 * <p>Numbers are normalized so a value read back from a store equals the value written:
 * every integral number becomes a {@code Long} when it fits, and every other number a
 * {@code Double}. Thread-safe; all methods are pure.
 */
public final class JsonObjects {
    /** The shared empty object; most sessions use it, so it costs nothing per session. */
    public static final Map<String, Object> EMPTY = Map.of();

    /** How deep objects and arrays may nest. */
    public static final int MAX_DEPTH = 64;

    // The longest integer taken from a BigDecimal: as long as the longest number a JSON reader
    // accepts by default (Jackson's StreamReadConstraints), far below what costs time to expand.
    private static final int MAX_INTEGER_DIGITS = 1000;

    private JsonObjects() {
    }

    /**
     * Validates {@code value} as a JSON object and returns an immutable, normalized copy.
     *
     * @param what names the value in error messages, e.g. {@code data}
     * @throws TetherException {@code invalid_request} when a key or value is not JSON, or a
     *     {@code BigDecimal} has more than 1000 integer digits
     */
    public static Map<String, Object> copyOf(Map<?, ?> value, String what) {
        if (value == null || value.isEmpty()) {
            return EMPTY;
        }
        return copyObject(value, what, 0);
    }

    /**
     * Applies a JSON merge patch (RFC 7386) to {@code target}: keys of {@code patch} replace
     * those of {@code target}, a {@code null} value removes the key, and nested objects are
     * merged recursively.
     *
     * @return a new immutable object; {@code target} is not changed
     * @throws TetherException {@code invalid_request} when the patch is not JSON
     */
    public static Map<String, Object> merge(Map<String, Object> target, Map<?, ?> patch, String what) {
        if (patch == null || patch.isEmpty()) {
            return target;
        }
        Map<String, Object> validPatch = copyObject(patch, what, 0);
        Map<String, Object> merged = mergeInto(target, validPatch);
        return merged.isEmpty() ? EMPTY : merged;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> mergeInto(Map<String, Object> target, Map<String, Object> patch) {
        LinkedHashMap<String, Object> out = new LinkedHashMap<>(target);
        for (Map.Entry<String, Object> e : patch.entrySet()) {
            Object v = e.getValue();
            if (v == null) {
                out.remove(e.getKey());
            } else if (v instanceof Map<?, ?> m) {
                Object old = out.get(e.getKey());
                Map<String, Object> base = old instanceof Map<?, ?> om ? (Map<String, Object>) om : EMPTY;
                out.put(e.getKey(), mergeInto(base, (Map<String, Object>) m));
            } else {
                out.put(e.getKey(), v);
            }
        }
        return Collections.unmodifiableMap(out);
    }

    private static Map<String, Object> copyObject(Map<?, ?> value, String path, int depth) {
        checkDepth(path, depth);
        LinkedHashMap<String, Object> out = new LinkedHashMap<>(Math.max(4, value.size() * 2));
        for (Map.Entry<?, ?> e : value.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                throw TetherException.invalid(path + ": object keys must be strings, got " + e.getKey());
            }
            out.put(key, copyValue(e.getValue(), path + "." + key, depth + 1));
        }
        return Collections.unmodifiableMap(out);
    }

    private static Object copyValue(Object v, String path, int depth) {
        if (v == null || v instanceof String || v instanceof Boolean) {
            return v;
        }
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof BigInteger b) {
            return b.bitLength() < 64 ? (Object) b.longValue() : b;
        }
        if (v instanceof BigDecimal d) {
            return copyDecimal(d, path);
        }
        if (v instanceof Double || v instanceof Float) {
            return finite(((Number) v).doubleValue(), path);
        }
        if (v instanceof Map<?, ?> m) {
            return m.isEmpty() ? EMPTY : copyObject(m, path, depth);
        }
        if (v instanceof List<?> list) {
            checkDepth(path, depth);
            ArrayList<Object> out = new ArrayList<>(list.size());
            for (int i = 0; i < list.size(); i++) {
                out.add(copyValue(list.get(i), path + "[" + i + "]", depth + 1));
            }
            return Collections.unmodifiableList(out);
        }
        throw TetherException.invalid(path + ": " + v.getClass().getSimpleName() + " is not a JSON value");
    }

    /**
     * Normalizes a BigDecimal without expanding its exponent: it stays a few bytes whatever
     * its exponent, and {@code toBigIntegerExact()} on {@code 1e-100000000} or
     * {@code 1e100000000} would compute a power of ten with a hundred million digits.
     */
    private static Object copyDecimal(BigDecimal d, String path) {
        if (d.signum() == 0) {
            return 0L;
        }
        long integerDigits = (long) d.precision() - d.scale();
        if (integerDigits > MAX_INTEGER_DIGITS) {
            throw TetherException.invalid(path + ": " + d + " is too large (more than "
                    + MAX_INTEGER_DIGITS + " integer digits)");
        }
        if (integerDigits <= 0) { // 0 < |d| < 1
            return finite(d.doubleValue(), path);
        }
        try { // the exponent is now bounded by the digits the caller supplied
            BigInteger b = d.toBigIntegerExact();
            return b.bitLength() < 64 ? (Object) b.longValue() : b;
        } catch (ArithmeticException notIntegral) {
            return finite(d.doubleValue(), path);
        }
    }

    private static Double finite(double d, String path) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            throw TetherException.invalid(path + ": " + d + " is not a JSON number");
        }
        return d;
    }

    private static void checkDepth(String path, int depth) {
        if (depth > MAX_DEPTH) {
            throw TetherException.invalid(path + ": nested deeper than " + MAX_DEPTH + " levels");
        }
    }
}
