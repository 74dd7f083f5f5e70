package io.tether.runtime.sandbox;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Which of a slot's directories (by index, in the order of the parent groups) carries what,
 * and under which file names; decided once at open from the files the parent groups have.
 *
 * @param memory the directory with the memory controller, or -1
 * @param limitFile {@code memory.max} (v2) or {@code memory.limit_in_bytes} (v1)
 * @param swapFile {@code memory.swap.max} (v2), {@code memory.memsw.limit_in_bytes} (v1), or
 *     null when the kernel does not account swap
 * @param peakFile {@code memory.peak} (v2, 5.19+) or {@code memory.max_usage_in_bytes} (v1), or null
 * @param pids the directory with the pids controller, or -1
 * @param kill the directory with a v2 {@code cgroup.kill} (5.14+), or -1
 * @param cpu the directory to read CPU time from, or -1
 * @param cpuStat whether that is v2 {@code cpu.stat} (µs) rather than v1 {@code cpuacct.usage} (ns)
 */
record SlotFiles(int memory, String limitFile, String swapFile, String peakFile, int pids, int kill, int cpu,
                 boolean cpuStat) {

    static SlotFiles of(List<ParentGroup> parents) {
        int memory = indexOf(parents, "memory");
        int pids = indexOf(parents, "pids");
        boolean memoryV2 = memory >= 0 && parents.get(memory).hierarchy().unified();
        String limit = memoryV2 ? "memory.max" : "memory.limit_in_bytes";
        String swap = memoryV2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes";
        String peak = memoryV2 ? "memory.peak" : "memory.max_usage_in_bytes";
        int kill = -1;
        int cpu = -1;
        boolean cpuStat = false;
        for (int i = 0; i < parents.size(); i++) {
            Path dir = parents.get(i).dir();
            if (parents.get(i).hierarchy().unified()) {
                if (kill < 0 && Files.exists(dir.resolve("cgroup.kill"))) {
                    kill = i;
                }
                if (!cpuStat && Files.exists(dir.resolve("cpu.stat"))) {
                    cpu = i;
                    cpuStat = true;
                }
            } else if (cpu < 0 && parents.get(i).hierarchy().offers("cpuacct")) {
                cpu = i;
            }
        }
        return new SlotFiles(memory, limit, existing(parents, memory, swap), existing(parents, memory, peak), pids, kill,
                cpu, cpuStat);
    }

    /** The directory whose processes {@link CgroupSlot#pids} lists: the one killed through, else the first. */
    int listing() {
        return kill >= 0 ? kill : 0;
    }

    boolean memoryV2() {
        return limitFile.equals("memory.max");
    }

    private static int indexOf(List<ParentGroup> parents, String controller) {
        for (int i = 0; i < parents.size(); i++) {
            if (parents.get(i).givesChildren(controller)) {
                return i;
            }
        }
        return -1;
    }

    private static String existing(List<ParentGroup> parents, int index, String file) {
        return index >= 0 && Files.exists(parents.get(index).dir().resolve(file)) ? file : null;
    }

    @Override
    public String toString() {
        return "[memory " + (memory < 0 ? "none" : limitFile + (swapFile == null ? ", swap not accounted" : ", no swap"))
                + "; pids " + (pids < 0 ? "none" : "pids.max") + "; kill " + (kill < 0 ? "by pid" : "cgroup.kill")
                + "; cpu " + (cpu < 0 ? "none" : cpuStat ? "cpu.stat" : "cpuacct.usage") + "]";
    }
}
