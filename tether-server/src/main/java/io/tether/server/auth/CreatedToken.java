package io.tether.server.auth;

import java.util.Objects;

/**
 * A token just created: the only time its secret is seen, since only its hash is kept.
 *
 * @param info the token as {@link TokenStore#list()} will show it
 * @param token the secret a client sends as {@code Authorization: Bearer <token>}
 */
public record CreatedToken(TokenInfo info, String token) {
    public CreatedToken {
        Objects.requireNonNull(info, "info");
        Objects.requireNonNull(token, "token");
    }

    /** Never the secret: a record's default {@code toString} would put it in logs. */
    @Override
    public String toString() {
        return "CreatedToken[info=" + info + ", token=tth_…]";
    }
}
