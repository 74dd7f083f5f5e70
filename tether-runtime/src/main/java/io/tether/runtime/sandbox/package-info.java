/**
 * Confinement of the processes behind a session: {@link io.tether.runtime.sandbox.Cgroups}
 * finds where this JVM may make Linux cgroups (v2, v1 or hybrid) and makes a
 * {@link io.tether.runtime.sandbox.CgroupSlot} per session, which caps the memory and the
 * number of processes of the whole tree, counts its CPU time and kills all of it. Everything
 * else here is package-private.
 */
package io.tether.runtime.sandbox;
