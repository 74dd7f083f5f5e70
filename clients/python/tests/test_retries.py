"""The retry rules, against a scripted local HTTP server (no Tether needed)."""

import json
import socket
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tether_client import RetryPolicy, Tether, TetherError

FAST = RetryPolicy(max_retries=2, delay=0.01, backoff=2.0, max_delay=1.0)
EXECUTION = {"session_id": "s1", "number": 1, "status": "ok", "stdout": "", "stderr": "",
             "result": None, "error": None, "duration": 0.001, "truncated": False}


def problem(status, code, headers=None):
    body = {"type": f"https://tether.dev/problems/{code}", "title": code, "status": status, "code": code,
            "detail": f"scripted {code}"}
    return status, {"Content-Type": "application/problem+json", **(headers or {})}, json.dumps(body).encode()


def ok(body, status=200):
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


class Scripted:
    """Answers each request with the next scripted reply; records the requests."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_one(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                outer.requests.append((self.command, self.path, dict(self.headers), body))
                status, headers, payload = outer.replies.pop(0)
                if status == "hang-up":
                    self.close_connection = True
                    return
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class RetryTest(unittest.TestCase):
    def scripted(self, *replies):
        s = Scripted(replies)
        self.addCleanup(s.close)
        t = Tether(s.url, "tth_test", retry=FAST)
        self.addCleanup(t.close)
        return s, t

    def test_503_and_429_are_retried_even_for_executions(self):
        s, t = self.scripted(problem(503, "runtime_unavailable"), problem(429, "limit_exceeded"), ok(EXECUTION))
        self.assertEqual(t.execute("s1", "x = 1").status, "ok")
        self.assertEqual(len(s.requests), 3)
        self.assertEqual(s.requests[0][2]["Authorization"], "Bearer tth_test")
        self.assertEqual(s.requests[0][2]["Tether-Session"], "s1")

    def test_retry_after_is_honoured(self):
        s, t = self.scripted(problem(503, "shutting_down", {"Retry-After": "1"}), ok({"id": "s1"}))
        began = time.monotonic()
        t.get_session("s1")
        self.assertGreaterEqual(time.monotonic() - began, 0.9)
        self.assertEqual(len(s.requests), 2)

    def test_a_retry_after_longer_than_max_delay_fails_at_once(self):
        s, t = self.scripted(problem(429, "limit_exceeded", {"Retry-After": "60"}))
        with self.assertRaises(TetherError) as e:
            t.get_session("s1")
        self.assertEqual((e.exception.code, e.exception.status, e.exception.retry_after), ("limit_exceeded", 429, 60))
        self.assertEqual(len(s.requests), 1)

    def test_retries_stop_after_max_retries(self):
        s, t = self.scripted(*[problem(503, "runtime_unavailable")] * 3)
        with self.assertRaises(TetherError) as e:
            t.get_session("s1")
        self.assertEqual(e.exception.code, "runtime_unavailable")
        self.assertEqual(len(s.requests), 3)

    def test_other_errors_are_never_retried(self):
        for status, code in ((500, "internal"), (404, "session_not_found"), (400, "invalid_request")):
            s, t = self.scripted(problem(status, code), ok({}))
            with self.assertRaises(TetherError) as e:
                t.get_session("s1")
            self.assertEqual((e.exception.code, e.exception.status), (code, status))
            self.assertEqual(len(s.requests), 1)

    def test_a_proxy_502_is_retried_for_reads_but_not_for_executions(self):
        gateway = (502, {"Content-Type": "text/html"}, b"<html>bad gateway</html>")
        s, t = self.scripted(gateway, ok({"id": "s1"}))
        self.assertEqual(t.get_session("s1")["id"], "s1")
        self.assertEqual(len(s.requests), 2)

        s, t = self.scripted(gateway, ok(EXECUTION))
        with self.assertRaises(TetherError) as e:
            t.execute("s1", "x = 1")
        self.assertEqual((e.exception.code, e.exception.status), ("unexpected_response", 502))
        self.assertEqual(len(s.requests), 1)  # it may have run: never sent again

        s, t = self.scripted(gateway, ok(EXECUTION))
        self.assertEqual(t.execute("s1", "x = 1", idempotent=True).status, "ok")
        self.assertEqual(len(s.requests), 2)

    def test_a_connection_lost_after_sending_is_retried_only_when_idempotent(self):
        s, t = self.scripted(("hang-up", {}, b""), ok(EXECUTION))
        with self.assertRaises(TetherError) as e:
            t.execute("s1", "x = 1")
        self.assertEqual(e.exception.code, "connection_lost")
        self.assertTrue(e.exception.outcome_unknown)
        self.assertEqual(len(s.requests), 1)

        s, t = self.scripted(("hang-up", {}, b""), ok({"id": "s1"}))
        self.assertEqual(t.touch("s1")["id"], "s1")
        self.assertEqual(len(s.requests), 2)

    def test_no_connection_is_connection_failed_after_retries(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        t = Tether(f"http://127.0.0.1:{port}", retry=FAST)
        began = time.monotonic()
        with self.assertRaises(TetherError) as e:
            t.execute("s1", "x = 1")
        self.assertEqual((e.exception.code, e.exception.status), ("connection_failed", 0))
        self.assertGreaterEqual(time.monotonic() - began, 0.03)  # waited 10 ms then 20 ms

    def test_policy_values_are_checked(self):
        with self.assertRaises(ValueError):
            RetryPolicy(max_retries=-1)
        with self.assertRaises(ValueError):
            RetryPolicy(delay=1.0, max_delay=0.5)
        self.assertEqual([RetryPolicy().delay_before(n) for n in (1, 2, 6)], [0.2, 0.4, 5.0])


if __name__ == "__main__":
    unittest.main()
