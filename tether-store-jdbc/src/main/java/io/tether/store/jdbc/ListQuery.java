package io.tether.store.jdbc;

import io.tether.store.PageCursor;
import io.tether.store.SessionQuery;
import java.util.ArrayList;
import java.util.List;

/**
 * The SQL of one page of a listing: only the filters that are set (so SQLite can pick the
 * index that matches them; PostgreSQL likewise), the cursor as a keyset condition, and one row more than the page
 * size to learn whether another page follows.
 *
 * @param sql        the statement
 * @param parameters its parameters, in order
 */
public record ListQuery(String sql, List<Object> parameters) {

    public static ListQuery of(SessionQuery q) {
        List<String> conditions = new ArrayList<>();
        List<Object> parameters = new ArrayList<>();
        if (q.owner() != null) {
            conditions.add("owner = ?");
            parameters.add(q.owner());
        }
        if (q.status() != null) {
            conditions.add("status = ?");
            parameters.add(q.status().wireName());
        }
        if (q.runtime() != null) {
            conditions.add("runtime = ?");
            parameters.add(q.runtime());
        }
        if (q.cursor() != null) {
            PageCursor after = PageCursor.decode(q.cursor());
            // Same as (created_at, id) < (?, ?), written so the leading range bounds the index scan.
            conditions.add("created_at <= ? AND (created_at < ? OR id < ?)");
            parameters.add(after.createdAtMillis());
            parameters.add(after.createdAtMillis());
            parameters.add(after.id());
        }
        StringBuilder sql = new StringBuilder("SELECT ").append(SessionRows.COLUMNS).append(" FROM sessions");
        if (!conditions.isEmpty()) {
            sql.append(" WHERE ").append(String.join(" AND ", conditions));
        }
        sql.append(" ORDER BY created_at DESC, id DESC LIMIT ?");
        parameters.add(q.limit() + 1);
        return new ListQuery(sql.toString(), List.copyOf(parameters));
    }
}
