package io.tether.cli;

import io.tether.server.http.Wire;
import io.tether.session.Session;
import java.util.Map;

/** A session as Tether's JSON shows it: the HTTP API's shape ({@link Wire#session}), so CLI and server agree. */
final class SessionJson {
    private SessionJson() {
    }

    static Map<String, Object> of(Session s) {
        return Wire.session(s);
    }
}
