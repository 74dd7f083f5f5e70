package io.tether.server.auth;

import java.time.Instant;
import java.util.Objects;

/**
 * A token as listed: what it is for, never its secret.
 *
 * @param id the token's short public id, used to revoke it; not a credential
 * @param owner the owner requests with this token act for
 * @param admin whether the token sees every owner's sessions
 * @param createdAt when the token was created (millisecond precision)
 */
public record TokenInfo(String id, String owner, boolean admin, Instant createdAt) {
    public TokenInfo {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(createdAt, "createdAt");
    }
}
