package io.tether.bench.compare;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * Where and with what the comparison ran.
 *
 * @param jupyter the versions of Jupyter Server, ipykernel and what they stand on
 * @param tether  {@code git describe} of the Tether checkout the server jar came from
 */
record Machine(String date, String cpu, int cpus, double memoryGb, String linux, String java, String python,
               JsonNode jupyter, String tether) {

    static Machine describe(JsonNode jupyter, Path repo) throws IOException, InterruptedException {
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        double memGb = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(0) / 1024.0 / 1024.0;
        return new Machine(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), cpu,
                Runtime.getRuntime().availableProcessors(), memGb, System.getProperty("os.version"),
                Runtime.version().toString() + " (" + System.getProperty("java.vendor") + ")",
                jupyter.path("python").asText("?"), jupyter, gitDescribe(repo));
    }

    /** The 1-minute load average now. */
    static double loadAverage() throws IOException {
        return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
    }

    /**
     * CPU time used so far, in USER_HZ ticks: by the whole machine (every CPU's non-idle
     * time, /proc/stat) and by this JVM with every descendant it and they reaped
     * (/proc/self/stat: utime, stime, cutime, cstime). Between two readings taken while no
     * server runs, the difference of the two is what other tenants used.
     */
    static long[] cpuTicks() throws IOException {
        String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long busy = 0;
        for (int i = 1; i < cpu.length && i <= 8; i++) {
            if (i != 4 && i != 5) { // idle, iowait
                busy += Long.parseLong(cpu[i]);
            }
        }
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        long ours = Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
        return new long[] {busy, ours};
    }

    private static String gitDescribe(Path repo) throws InterruptedException {
        try {
            Process p = new ProcessBuilder("git", "-C", repo.toString(), "describe", "--always", "--dirty")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 ? out : "unknown";
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }
}
