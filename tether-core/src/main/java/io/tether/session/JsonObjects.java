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

    private JsonObjects() {
    }

    /**
     * Validates {@code value} as a JSON object and returns an immutable, normalized copy.
     *
     * @param what names the value in error messages, e.g. {@code data}
     * @throws TetherException {@code invalid_request} when a key or value is not JSON
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
            try {
                return d.toBigIntegerExact().bitLength() < 64 ? d.longValueExact() : d.toBigIntegerExact();
            } catch (ArithmeticException notIntegral) {
                return finite(d.doubleValue(), path);
            }
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
