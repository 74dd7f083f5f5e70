import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/**
 * The JDK HttpClient side of tail.py: WARMUP untimed then N timed {@code x = x + 1} executes in
 * session SID, one at a time on one kept-alive HTTP/1.1 connection; prints
 * {@code epoch_ns_start duration_ns} per timed one. Run from source:
 * {@code java TailClient.java URL TOKEN SID WARMUP N}.
 */
public class TailClient {
    public static void main(String[] args) throws Exception {
        String url = args[0], token = args[1], sid = args[2];
        int warmup = Integer.parseInt(args[3]), n = Integer.parseInt(args[4]);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest req = HttpRequest.newBuilder(URI.create(url + "/v1/sessions/" + sid + "/executions"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"code\": \"x = x + 1\"}")).build();
        long[] start = new long[n], dur = new long[n];
        for (int i = -warmup; i < n; i++) {
            long w = System.currentTimeMillis() * 1_000_000L, t = System.nanoTime();
            HttpResponse<String> r = client.send(req, HttpResponse.BodyHandlers.ofString());
            long d = System.nanoTime() - t;
            if (r.statusCode() != 200 || !r.body().contains("\"status\":\"ok\"")) {
                throw new IllegalStateException("execute: " + r.statusCode() + " " + r.body());
            }
            if (i >= 0) {
                start[i] = w;
                dur[i] = d;
            }
        }
        StringBuilder out = new StringBuilder(n * 24);
        for (int i = 0; i < n; i++) {
            out.append(start[i]).append(' ').append(dur[i]).append('\n');
        }
        System.out.print(out);
    }
}
