package io.tether.server.auth;

import io.tether.session.Access;
import java.util.Objects;

/**
 * Who a request acts for: the owner its sessions belong to, and whether it may see every
 * owner's sessions.
 *
 * @param owner the owner named by the token that authenticated the request
 * @param admin whether the token is an admin token (sees all owners' sessions)
 */
public record Principal(String owner, boolean admin) {
    public Principal {
        Objects.requireNonNull(owner, "owner");
    }

    /** What the request may see of the session manager: its owner's sessions, or every one for an admin. */
    public Access access() {
        return new Access(owner, admin);
    }
}
