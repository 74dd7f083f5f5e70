/**
 * What the SQL session stores share: how sessions and executions map to rows and back, the
 * listing query, the coalescing of activity (one row write per session per flush
 * interval, however often it is touched) and the schema's migration steps. Not an API: the classes are public only so the
 * SQLite and PostgreSQL stores, in packages of their own, can use them.
 */
package io.tether.store.jdbc;
