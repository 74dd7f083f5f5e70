"""Tests against a real Tether server: TETHER_URL (and TETHER_TOKEN, an admin token) name it."""

import os
import unittest
import uuid

import struct

from tether_client import Display, End, Error, InputRequest, Result, Start, Stderr, Stdout, Tether, TetherError, output_bytes

URL = os.environ.get("TETHER_URL")
TOKEN = os.environ.get("TETHER_TOKEN")


@unittest.skipUnless(URL, "TETHER_URL names no server")
class LiveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tether = Tether(URL, TOKEN)

    @classmethod
    def tearDownClass(cls):
        cls.tether.close()

    def python_session(self):
        s = self.tether.create_session("python", idle_timeout=120)
        self.addCleanup(self.tether.end_session, s["id"])
        return s["id"]

    # -- sessions -------------------------------------------------------------------------------

    def test_plain_session_create_get_update_touch_end(self):
        t = self.tether
        s = t.create_session(data={"n": 1, "gone": True}, metadata={"tag": "a"}, idle_timeout=60)
        self.assertEqual(s["runtime"], "none")
        self.assertEqual(s["status"], "active")
        self.assertEqual(s["idle_timeout"], 60)
        got = t.get_session(s["id"])
        self.assertEqual(got["data"], {"n": 1, "gone": True})

        patched = t.update_session(s["id"], data={"m": 2, "gone": None}, metadata={"tag": "b"})
        self.assertEqual(patched["data"], {"n": 1, "m": 2})  # merged; None removed a key
        self.assertEqual(patched["metadata"], {"tag": "b"})
        self.assertEqual(patched["interaction_count"], 1)
        self.assertEqual(t.touch(s["id"])["interaction_count"], 2)

        ended = t.end_session(s["id"], reason="done")
        self.assertEqual(ended["status"], "ended")
        self.assertEqual(ended["end_reason"], "done")
        self.assertEqual(t.end_session(s["id"])["end_reason"], "done")  # idempotent
        with self.assertRaises(TetherError) as e:
            t.touch(s["id"])
        self.assertEqual((e.exception.code, e.exception.status), ("session_ended", 410))

    def test_list_pages_with_cursor(self):
        t = self.tether
        tag = uuid.uuid4().hex
        ids = [t.create_session(metadata={"tag": tag})["id"] for _ in range(3)]
        for i in ids:
            self.addCleanup(t.end_session, i)
        first = t.list_sessions(status="active", runtime="none", limit=2)
        self.assertEqual(len(first.items), 2)
        self.assertIsNotNone(first.next_cursor)
        self.assertEqual([s["id"] for s in first.items], ids[::-1][:2])  # newest first
        second = t.list_sessions(status="active", runtime="none", limit=2, cursor=first.next_cursor)
        self.assertEqual(second.items[0]["id"], ids[0])
        every = [s["id"] for s in t.iter_sessions(status="active", runtime="none", limit=1)]
        self.assertEqual(every[:3], ids[::-1])
        self.assertEqual(len(every), len(set(every)))

    # -- executions -----------------------------------------------------------------------------

    def test_execute_keeps_state_and_reports_failures_as_results(self):
        t = self.tether
        sid = self.python_session()
        first = t.execute(sid, "x = 41\nprint('hello')")
        self.assertEqual(first.status, "ok")
        self.assertEqual(first["stdout"], "hello\n")
        self.assertIsNone(first["result"])
        second = t.execute(sid, "x + 1")
        self.assertEqual(second.value, 42)
        self.assertEqual(second.text, "42")
        self.assertEqual(second.number, first.number + 1)
        failed = t.execute(sid, "1 / 0")
        self.assertEqual(failed.status, "error")
        self.assertEqual(failed["error"]["name"], "ZeroDivisionError")
        kept = t.execution(sid, second.number)
        self.assertEqual(kept["code"], "x + 1")
        self.assertEqual(kept.value, 42)
        timed_out = t.execute(sid, "import time\ntime.sleep(30)", timeout=0.5)
        self.assertEqual(timed_out.status, "timeout")
        self.assertEqual(t.execute(sid, "x").value, 41)  # the namespace survived the timeout

    def test_history_lists_executions_newest_first_in_pages_with_or_without_output(self):
        t = self.tether
        sid = self.python_session()
        t.execute(sid, "x = 1")
        t.execute(sid, "print('two')")
        t.execute(sid, "1 / 0")
        first = t.list_executions(sid, limit=2)
        self.assertEqual([e["number"] for e in first.items], [3, 2])
        self.assertEqual(first.items[0]["status"], "error")
        self.assertEqual(first.items[0]["error_name"], "ZeroDivisionError")
        self.assertEqual(first.items[0]["code_preview"], "1 / 0")
        self.assertNotIn("stdout", first.items[1])  # a summary
        self.assertIsNotNone(first.next_cursor)
        last = t.list_executions(sid, limit=2, cursor=first.next_cursor)
        self.assertEqual([e["number"] for e in last.items], [1])
        self.assertIsNone(last.next_cursor)

        whole = t.list_executions(sid, output=True)
        self.assertEqual([e.number for e in whole.items], [3, 2, 1])
        self.assertEqual(whole.items[1]["stdout"], "two\n")
        self.assertEqual(whole.items[2]["code"], "x = 1")
        self.assertEqual([e["number"] for e in t.iter_executions(sid, limit=1)], [3, 2, 1])
        t.end_session(sid)
        self.assertEqual(len(t.list_executions(sid).items), 3)  # also after the session ended
        with self.assertRaises(TetherError) as e:
            t.list_executions(sid, limit=0)
        self.assertEqual((e.exception.code, e.exception.status), ("invalid_request", 400))

    def test_stream_gives_typed_events_in_order(self):
        t = self.tether
        sid = self.python_session()
        code = "import sys\nfor i in range(3):\n    print(i, flush=True)\nprint('warn', file=sys.stderr)\n6 * 7"
        with t.stream(sid, code) as events:
            got = list(events)
        self.assertIsInstance(got[0], Start)
        self.assertEqual(got[0].session_id, sid)
        self.assertIsInstance(got[-1], End)
        self.assertEqual([e.type for e in got][0], "start")
        out = "".join(e.text for e in got if isinstance(e, Stdout))
        self.assertEqual(out, "0\n1\n2\n")
        self.assertEqual("".join(e.text for e in got if isinstance(e, Stderr)), "warn\n")
        results = [e for e in got if isinstance(e, Result)]
        self.assertEqual(len(results), 1)
        self.assertEqual(results[0].data["application/json"], 42)
        self.assertLess(got.index(results[0]), len(got) - 1)
        end = got[-1].execution
        self.assertEqual((end.status, end.value, end.number), ("ok", 42, got[0].number))

        failed = t.stream(sid, "raise ValueError('bad')").finish()
        self.assertEqual(failed["error"]["name"], "ValueError")
        errors = [e for e in t.stream(sid, "raise KeyError('k')") if isinstance(e, Error)]
        self.assertEqual([e.name for e in errors], ["KeyError"])
        # the connection that carried the streams serves the next call
        self.assertEqual(t.execute(sid, "1 + 1").value, 2)

    def test_rich_outputs_in_order_over_json_and_events(self):
        t = self.tether
        sid = self.python_session()
        plot = ("import matplotlib.pyplot as plt\nprint('before', flush=True)\n"
                "plt.figure(figsize=(2, 1), dpi=100)\nplt.plot([1, 2])\nplt.show()\nprint('after')")
        with t.stream(sid, plot) as events:
            got = [e for e in events if not isinstance(e, Start)]
        self.assertEqual([type(e).__name__ for e in got], ["Stdout", "Display", "Stdout", "End"])
        png = got[1].bytes("image/png")
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual(struct.unpack(">II", png[16:24]), (200, 100))  # IHDR: width, height
        self.assertFalse(got[1].truncated)
        end = got[-1].execution
        self.assertEqual([o["output_type"] for o in end.outputs], ["stream", "display_data", "stream"])
        self.assertEqual(output_bytes(end.displays[0], "image/png"), png)

        e = t.execute(sid, "import pandas as pd\nprint('x')\npd.DataFrame({'a': [1]})")
        self.assertEqual([o["output_type"] for o in e.outputs], ["stream", "execute_result"])
        self.assertIn("<table", e.outputs[1]["data"]["text/html"])
        self.assertEqual(t.execution(sid, e.number).outputs, e.outputs)

    def test_interrupt_stops_running_code_and_restart_empties_the_namespace(self):
        t = self.tether
        sid = self.python_session()
        t.execute(sid, "kept = 1")
        with t.stream(sid, "import time\nprint('going', flush=True)\ntime.sleep(60)") as events:
            self.assertIsInstance(next(events), Start)
            self.assertEqual(next(events), Stdout("going\n"))
            t.interrupt(sid)
            done = events.finish()
        self.assertEqual(done.status, "interrupted")
        self.assertEqual(t.execute(sid, "kept").value, 1)  # the namespace stays
        self.assertEqual(t.restart(sid)["status"], "active")
        self.assertEqual(t.execute(sid, "'kept' in globals()").value, False)

    def test_input_requests_are_answered_and_stdin_feeds_a_plain_execution(self):
        t = self.tether
        sid = self.python_session()
        requests = []
        with t.stream(sid, "import getpass\nname = input('Name? ')\nname + str(len(getpass.getpass()))") as events:
            for e in events:
                if isinstance(e, InputRequest):
                    requests.append(e)
                    t.input(sid, "pw" if e.password else "Ada")
                elif isinstance(e, End):
                    done = e.execution
        self.assertEqual(requests, [InputRequest("Name? ", False), InputRequest("Password: ", True)])
        self.assertEqual(requests[0].type, "input_request")
        self.assertEqual(done.value, "Ada2")
        self.assertEqual(t.execute(sid, "input() + input()", stdin="a\nb\n").value, "ab")
        eof = t.execute(sid, "input()")
        self.assertEqual(eof["error"]["name"], "EOFError")
        with self.assertRaises(TetherError) as caught:
            t.input(sid, "nobody asked")
        self.assertEqual((caught.exception.code, caught.exception.status), ("no_input_requested", 409))

    # -- automatic sessions ---------------------------------------------------------------------

    def test_complete_and_inspect_read_the_live_namespace(self):
        t = self.tether
        sid = self.python_session()
        t.execute(sid, "import os\nrainfall_mm = [3, 0, 12]")
        c = t.complete(sid, "x = os.pa")
        self.assertIn("path", c["matches"])
        self.assertEqual((c["cursor_start"], c["cursor_end"]), (7, 9))
        self.assertEqual(t.complete(sid, "rainf + 1", cursor=5)["matches"], ["rainfall_mm"])
        i = t.inspect(sid, "len(rainfall_mm)", cursor=2)
        self.assertTrue(i["found"])
        self.assertIn("Return the number of items", i["data"]["text/plain"])
        self.assertEqual(t.inspect(sid, "nothing_named_so")["found"], False)
        with self.assertRaises(TetherError) as e:
            t.complete(sid, "rainf", cursor=6)
        self.assertEqual((e.exception.code, e.exception.status), ("invalid_request", 400))

    def test_auto_session_is_created_on_first_call_reused_and_ended_on_exit(self):
        t = self.tether
        with t.auto_session("python") as py:
            self.assertIsNone(py.session_id)  # nothing created yet
            first = py.execute("import math\nr = 2")
            self.assertTrue(first.new_session)
            sid = py.session_id
            self.assertEqual(first.session_id, sid)
            again = py.execute("math.pi * r ** 2")
            self.assertFalse(again.new_session)
            self.assertEqual(again.session_id, sid)
            self.assertAlmostEqual(again.value, 12.566370614359172)
            events = list(py.stream("print(r)"))
            self.assertEqual(events[0].session_id, sid)
            self.assertEqual(events[-1].execution["stdout"], "2\n")
            self.assertEqual(py.update(data={"k": 1})["data"], {"k": 1})
            self.assertEqual(py.session()["id"], sid)
        self.assertIsNone(py.session_id)
        ended = t.get_session(sid)
        self.assertEqual((ended["status"], ended["end_reason"]), ("ended", "manual"))
        with self.assertRaises(RuntimeError):
            py.execute("1")

    def test_auto_session_first_call_may_be_a_stream(self):
        with self.tether.auto_session("python") as py:
            stream = py.stream("v = 5\nv")
            self.assertTrue(stream.new_session)
            end = stream.finish()
            self.assertEqual(end.value, 5)
            self.assertEqual(py.session_id, stream.session_id)
            self.assertEqual(py.execute("v * 2").value, 10)

    def test_concurrent_first_calls_create_one_session(self):
        import threading
        results = []
        with self.tether.auto_session("python") as py:
            threads = [threading.Thread(target=lambda: results.append(py.execute("1").session_id))
                       for _ in range(4)]
            for th in threads:
                th.start()
            for th in threads:
                th.join(60)
            self.assertEqual(len(results), 4)
            self.assertEqual(set(results), {py.session_id})

    def test_auto_session_ends_when_the_block_raises(self):
        t = self.tether
        with self.assertRaises(ZeroDivisionError):
            with t.auto_session("python") as py:
                py.execute("y = 1")
                sid = py.session_id
                1 / 0
        self.assertEqual(t.get_session(sid)["status"], "ended")

    def test_auto_session_without_calls_creates_nothing(self):
        before = self.tether.stats()
        with self.tether.auto_session("python") as py:
            pass
        self.assertIsNone(py.session_id)
        self.assertEqual(self.tether.stats(), before)

    def test_lost_session_fails_by_default_then_starts_over(self):
        t = self.tether
        with t.auto_session("python") as py:
            py.execute("z = 1")
            old = py.session_id
            t.end_session(old, reason="elsewhere")
            with self.assertRaises(TetherError) as e:
                py.execute("z")
            self.assertEqual((e.exception.code, e.exception.status), ("session_ended", 410))
            self.assertIn("did not run", e.exception.detail)
            self.assertIsNone(py.session_id)
            fresh = py.execute("'z' in globals()")
            self.assertTrue(fresh.new_session)
            self.assertNotEqual(py.session_id, old)
            self.assertEqual(fresh.value, False)  # the state is never pretended to survive

    def test_lost_session_recreated_when_asked(self):
        t = self.tether
        with t.auto_session("python", on_lost="recreate") as py:
            py.execute("z = 1")
            old = py.session_id
            t.end_session(old)
            e = py.execute("'z' in globals()")
            self.assertTrue(e.new_session)
            self.assertEqual(e.value, False)
            self.assertNotEqual(py.session_id, old)
            self.assertEqual(py.lost, [old])

    def test_auto_session_from_a_spec_creates_with_its_settings(self):
        t = self.tether
        with t.auto_session("python", idle_timeout=33, metadata={"who": "py"}) as py:
            self.assertEqual(py.execute("1").value, 1)
            s = py.session()
            self.assertEqual((s["idle_timeout"], s["metadata"]), (33, {"who": "py"}))

    # -- files ----------------------------------------------------------------------------------

    def test_files_round_trip(self):
        t = self.tether
        sid = self.python_session()
        blob = bytes(range(256)) * 4
        self.assertEqual(t.upload(sid, "data/in.bin", blob), {"path": "data/in.bin", "size": 1024})
        self.assertEqual(t.download(sid, "data/in.bin"), blob)
        self.assertEqual(t.execute(sid, "len(open('data/in.bin', 'rb').read())").value, 1024)
        t.execute(sid, "open('out name.txt', 'w').write('from code')")
        self.assertEqual(t.download(sid, "out name.txt"), b"from code")
        listed = {f["path"]: f for f in t.files(sid)["files"]}
        self.assertEqual(listed["data"]["type"], "directory")
        self.assertEqual(listed["data/in.bin"]["size"], 1024)
        self.assertIn("out name.txt", listed)
        t.delete_file(sid, "data/in.bin")
        with self.assertRaises(TetherError) as e:
            t.download(sid, "data/in.bin")
        self.assertEqual((e.exception.code, e.exception.status), ("not_found", 404))
        with self.assertRaises(TetherError) as e:
            t.upload(sid, "../escape", b"x")
        self.assertEqual(e.exception.code, "invalid_request")

    # -- errors ---------------------------------------------------------------------------------

    def test_errors_carry_the_problem_code(self):
        t = self.tether
        with self.assertRaises(TetherError) as e:
            t.get_session("no-such-session")
        self.assertEqual((e.exception.code, e.exception.status), ("session_not_found", 404))
        self.assertTrue(e.exception.session_gone)
        with self.assertRaises(TetherError) as e:
            t.create_session("cobol")
        self.assertEqual((e.exception.code, e.exception.status), ("invalid_request", 400))
        self.assertTrue(e.exception.detail)
        with self.assertRaises(TetherError) as e:
            t.execute("no-such-session", "1")
        self.assertEqual(e.exception.code, "session_not_found")
        with self.assertRaises(TetherError) as e:
            t.execution(self.python_session(), 99)
        self.assertEqual(e.exception.code, "not_found")

    @unittest.skipUnless(TOKEN, "the server needs no token")
    def test_a_wrong_token_is_unauthorized(self):
        with Tether(URL, "tth_wrong") as other:
            with self.assertRaises(TetherError) as e:
                other.list_sessions()
            self.assertEqual((e.exception.code, e.exception.status), ("unauthorized", 401))
            self.assertTrue(other.healthy())  # /healthz needs no token


if __name__ == "__main__":
    unittest.main()
