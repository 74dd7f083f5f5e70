package io.tether.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * An execution's event stream read to its end: each event as {@code "name data"}, and when
 * ({@link System#nanoTime}) its first {@code stdout} event and its {@code end} event arrived, -1
 * for none: a stream a forwarding node buffered would deliver both at once.
 */
record TimedEvents(List<String> events, long firstStdoutAt, long endAt) {
    /** Sends {@code request} (which asks for an event stream) and reads the 200 answer's stream. */
    static TimedEvents send(HttpRequest request) throws IOException, InterruptedException {
        HttpResponse<InputStream> r = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        return read(r.body());
    }

    static TimedEvents read(InputStream body) throws IOException {
        List<String> events = new ArrayList<>();
        long firstAt = -1;
        long endAt = -1;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            String event = null;
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.startsWith("event: ")) {
                    event = line.substring(7);
                } else if (line.startsWith("data: ") && event != null) {
                    events.add(event + " " + line.substring(6));
                    if (event.equals("stdout") && firstAt < 0) {
                        firstAt = System.nanoTime();
                    }
                    if (event.equals("end")) {
                        endAt = System.nanoTime();
                    }
                }
            }
        }
        return new TimedEvents(List.copyOf(events), firstAt, endAt);
    }
}
