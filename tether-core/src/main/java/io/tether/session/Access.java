package io.tether.session;

import java.util.Objects;

/**
 * Whose sessions a caller of the {@link SessionManager} may see: its own, or every owner's.
 * A session the caller may not see does not exist for it ({@code session_not_found}), so
 * ids cannot be probed. A server builds one per request from the caller's credentials;
 * an embedded user and the manager's own work use {@link #SYSTEM}.
 *
 * @param owner the caller's owner; {@code null} only for {@link #SYSTEM}
 * @param admin whether it sees every owner's sessions
 */
public record Access(String owner, boolean admin) {
    /** Sees every session: what the manager's methods without an {@code Access} use. */
    public static final Access SYSTEM = new Access(null, true);

    public Access {
        if (owner == null && !admin) {
            throw new IllegalArgumentException("an access without an owner must be an admin one");
        }
    }

    /** A caller that sees only {@code owner}'s sessions. */
    public static Access owner(String owner) {
        return new Access(Objects.requireNonNull(owner, "owner"), false);
    }

    /** A caller that owns sessions as {@code owner} and sees every owner's. */
    public static Access admin(String owner) {
        return new Access(Objects.requireNonNull(owner, "owner"), true);
    }

    /** Whether the caller may see a session of {@code sessionOwner}. */
    public boolean sees(String sessionOwner) {
        return admin || owner.equals(sessionOwner);
    }
}
