#!/usr/bin/env python3
"""The tail of the execute round trip: `x = x + 1` in one live Python session over HTTP.

Starts a Tether server on a free port with a fresh data directory (default settings: sandbox
on, SQLite store, access log on, written to a file), creates a python session, runs WARMUP
untimed executes, then N timed ones, one at a time, and prints median, p90, p99, p99.9 and max
(milliseconds), the p99 / median ratio, the load average before and after, and the CPU time
the server's process tree and this client used per execute.

usage: tether-bench/scripts/tail.py [--n N] [--warmup N] [--client raw|jdk|both]
                                    [--samples FILE] [--] [SERVER COMMAND...]
  SERVER COMMAND defaults to `./tether serve`; it gets `--port 0 --data-dir <fresh dir>
  --runtimes python` appended. TETHER_JAVA_OPTS in the environment reaches the launcher (e.g.
  -XX:StartFlightRecording=filename=x.jfr,settings=profile). To compare two builds, give each
  its own command, e.g. `java --enable-native-access=ALL-UNNAMED -Xms16m -XX:+UseSerialGC
  -jar A.jar serve`.
Clients: `raw` is one keep-alive HTTP/1.1 connection on a plain socket (TCP_NODELAY on, the
request bytes prebuilt, the answer read by Content-Length), timed with perf_counter_ns; `jdk`
is the JDK HttpClient (HTTP/1.1, one connection kept alive) in a JVM of its own
(TailClient.java next to this script, run from source by JDK 21+'s `java`; JAVA names it,
default the JDK 25 of this machine or `java`). `both` runs raw, jdk, raw, jdk in blocks.
--samples FILE writes `client, epoch_ns_start, duration_ns` per timed execute (to match slow
ones with JFR events, whose times are epoch based).
"""
import argparse, json, os, shutil, socket, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def pct(sorted_ms, p):
    """Nearest-rank percentile."""
    k = max(0, min(len(sorted_ms) - 1, int(round(p / 100.0 * len(sorted_ms) + 0.5)) - 1))
    return sorted_ms[k]


def tree_cpu(pid):
    """User + system CPU seconds of pid and every process below it (those alive now)."""
    tick = os.sysconf('SC_CLK_TCK')
    children = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                st = open('/proc/%s/stat' % d).read()
            except OSError:
                continue
            f = st[st.rindex(')') + 2:].split()
            children.setdefault(int(f[1]), []).append((int(d), (int(f[11]) + int(f[12])) / tick))
    total, todo = 0.0, [pid]
    try:
        st = open('/proc/%d/stat' % pid).read()
        f = st[st.rindex(')') + 2:].split()
        total += (int(f[11]) + int(f[12])) / tick
    except OSError:
        pass
    while todo:
        for c, t in children.get(todo.pop(), []):
            total += t
            todo.append(c)
    return total


def cpu_table(pid):
    """{(kind, id, name): CPU seconds} for pid's threads and every process below it."""
    tick = os.sysconf('SC_CLK_TCK')

    def stat(path):
        st = open(path).read()
        f = st[st.rindex(')') + 2:].split()
        return st[st.index('(') + 1:st.rindex(')')], int(f[1]), (int(f[11]) + int(f[12])) / tick

    out, parent = {}, {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                name, ppid, t = stat('/proc/%s/stat' % d)
            except OSError:
                continue
            parent.setdefault(ppid, []).append((int(d), name, t))
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            name, _, t = stat('/proc/%d/task/%s/stat' % (pid, tid))
            status = open('/proc/%d/task/%s/status' % (pid, tid)).read()
        except OSError:
            continue
        switches = sum(int(l.split()[1]) for l in status.splitlines() if l.endswith('ctxt_switches') or
                       'ctxt_switches:' in l)
        out[('thread', int(tid), name)] = (t, switches)
    todo = [pid]
    while todo:
        for c, name, t in parent.get(todo.pop(), []):
            try:
                status = open('/proc/%d/status' % c).read()
                switches = sum(int(l.split()[1]) for l in status.splitlines() if 'ctxt_switches:' in l)
            except OSError:
                switches = 0
            out[('process', c, name)] = (t, switches)
            todo.append(c)
    return out


class Raw:
    """One keep-alive HTTP/1.1 connection; requests prebuilt, answers read by Content-Length."""

    def __init__(self, host, port):
        self.s = socket.create_connection((host, port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b''

    def roundtrip(self, req):
        self.s.sendall(req)
        while b'\r\n\r\n' not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError('connection closed')
            self.buf += chunk
        head, _, rest = self.buf.partition(b'\r\n\r\n')
        length = 0
        for line in head.split(b'\r\n')[1:]:
            name, _, value = line.partition(b':')
            if name.strip().lower() == b'content-length':
                length = int(value)
        while len(rest) < length:
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError('connection closed')
            rest += chunk
        self.buf = rest[length:]
        status = int(head.split(b' ', 2)[1])
        return status, rest[:length]


ECHO = r"""
import socket, sys
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1)
print(srv.getsockname()[1], flush=True)
c, _ = srv.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
answer = b'HTTP/1.1 200 OK\r\nContent-Length: 169\r\n\r\n' + b'x' * 169
buf = b''
while True:
    while b'\r\n\r\n' not in buf:
        d = c.recv(65536)
        if not d:
            sys.exit(0)
        buf += d
    head, _, rest = buf.partition(b'\r\n\r\n')
    n = int(head.lower().split(b'content-length:')[1].split(b'\r\n')[0])
    while len(rest) < n:
        rest += c.recv(65536)
    buf = rest[n:]
    c.sendall(answer)
"""


def floor_samples(n, req, out):
    """The same requests answered by a bare Python echo server: two processes over loopback."""
    e = subprocess.Popen([sys.executable, '-c', ECHO], stdout=subprocess.PIPE, text=True)
    try:
        r = Raw('127.0.0.1', int(e.stdout.readline()))
        for _ in range(n + 2000):
            w, t = time.time_ns(), time.perf_counter_ns()
            r.roundtrip(req)
            if n > 0 and _ >= 2000:
                out.append((w, time.perf_counter_ns() - t))
        r.s.close()
    finally:
        e.wait(10)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n', type=int, default=10000)
    ap.add_argument('--warmup', type=int, default=5000)
    ap.add_argument('--client', choices=('raw', 'jdk', 'both'), default='raw')
    ap.add_argument('--samples')
    ap.add_argument('--floor', action='store_true',
                    help='also time a bare Python echo server (the floor) in blocks alternating with the raw client')
    ap.add_argument('--cpu-detail', action='store_true',
                    help="the server JVM's threads and its processes that used CPU during the timed executes")
    ap.add_argument('--keep-server', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('cmd', nargs='*')
    a = ap.parse_args()
    cmd = a.cmd or [os.path.join(ROOT, 'tether'), 'serve']
    data = tempfile.mkdtemp(prefix='tail-')
    log = open(os.path.join(data, 'server.log'), 'w')
    p = subprocess.Popen(cmd + ['--port', '0', '--data-dir', data, '--runtimes', 'python'],
                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        info = os.path.join(data, 'server.json')
        t0 = time.time()
        url = None
        while url is None:
            if p.poll() is not None or time.time() - t0 > 120:
                sys.exit('server did not start: ' + open(log.name).read()[-2000:])
            try:
                url = json.load(open(info))['url']
            except (OSError, ValueError, KeyError):
                time.sleep(0.02)
        host, port = url.split('//')[1].split(':')
        port = int(port)
        token = open(os.path.join(data, 'admin-token')).read().strip()
        raw = Raw(host, port)

        def request(method, path, body):
            b = json.dumps(body).encode()
            return ('%s %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n'
                    'Content-Type: application/json\r\nContent-Length: %d\r\n\r\n'
                    % (method, path, host, port, token, len(b))).encode() + b

        st, body = raw.roundtrip(request('POST', '/v1/sessions', {'runtime': 'python'}))
        if st != 201:
            sys.exit('create: %d %s' % (st, body[:300]))
        sid = json.loads(body)['id']
        path = '/v1/sessions/%s/executions' % sid
        zero = request('POST', path, {'code': 'x = 0'})
        incr = request('POST', path, {'code': 'x = x + 1'})
        raw.roundtrip(zero)
        expected = 0

        def run_raw(n, out):
            nonlocal expected
            for _ in range(n):
                w = time.time_ns()
                t = time.perf_counter_ns()
                st, body = raw.roundtrip(incr)
                d = time.perf_counter_ns() - t
                if st != 200 or b'"status":"ok"' not in body:
                    raise RuntimeError('execute: %d %s' % (st, body[:300]))
                expected += 1
                if out is not None:
                    out.append((w, d))

        java = os.environ.get('JAVA') or (
            '/usr/lib/jvm/temurin-25-jdk-amd64/bin/java'
            if os.path.exists('/usr/lib/jvm/temurin-25-jdk-amd64/bin/java') else 'java')

        def run_jdk(n, warm, out):
            nonlocal expected
            r = subprocess.run([java, '-XX:+UseSerialGC', os.path.join(HERE, 'TailClient.java'),
                                url, token, sid, str(warm), str(n)], capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError('TailClient: ' + r.stderr[-2000:])
            for line in r.stdout.split('\n'):
                if line:
                    w, d = line.split()
                    out.append((int(w), int(d)))
            expected += warm + n

        # warm-up: the server's JIT needs thousands of requests
        run_raw(a.warmup, None)
        samples = {'raw': [], 'jdk': [], 'floor': []}
        load0 = os.getloadavg()
        detail0 = cpu_table(p.pid) if a.cpu_detail else None
        cpu0, me0, wall0 = tree_cpu(p.pid), time.process_time(), time.time()
        if a.client == 'raw' and a.floor:
            for _ in range(4):
                run_raw(a.n // 4, samples['raw'])
                floor_samples(a.n // 4, incr, samples['floor'])
        elif a.client == 'raw':
            run_raw(a.n, samples['raw'])
        elif a.client == 'jdk':
            run_jdk(a.n, min(a.warmup, 3000), samples['jdk'])
        else:
            for _ in range(2):
                raw = Raw(host, port)  # the server closes a connection idle for 30 s: the jdk block can take that
                run_raw(a.n // 2, samples['raw'])
                run_jdk(a.n // 2, min(a.warmup, 3000), samples['jdk'])
            raw = Raw(host, port)
        cpu1, me1, wall1 = tree_cpu(p.pid), time.process_time(), time.time()
        detail1 = cpu_table(p.pid) if a.cpu_detail else None
        load1 = os.getloadavg()
        st, body = raw.roundtrip(request('POST', path, {'code': 'x'}))
        got = json.loads(body)['result']['text/plain']
        if int(got) != expected:
            raise RuntimeError('x is %s, expected %d' % (got, expected))
        total = len(samples['raw']) + len(samples['jdk'])
        print('load %.2f %.2f %.2f -> %.2f %.2f %.2f; %d executes in %.1f s; server tree CPU %.0f us/exec, '
              'client (python) CPU %.0f us/exec' % (*load0, *load1, total, wall1 - wall0,
                                                   (cpu1 - cpu0) / total * 1e6, (me1 - me0) / total * 1e6))
        for name, v in samples.items():
            if not v:
                continue
            ms = sorted(d / 1e6 for _, d in v)
            med = statistics.median(ms)
            print('%-5s n=%d median %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms;  p99/median %.1fx; '
                  '> 3x median: %d' % (name, len(ms), med, pct(ms, 90), pct(ms, 99), pct(ms, 99.9), ms[-1],
                                        pct(ms, 99) / med, sum(1 for x in ms if x > 3 * med)), flush=True)
        if a.cpu_detail:
            n = total
            rows = sorted(((t - detail0.get(k, (0, 0))[0], cs - detail0.get(k, (0, 0))[1], k)
                           for k, (t, cs) in detail1.items()), reverse=True)
            print('  context switches per execute, JVM threads: %.1f' % (
                sum(cs for _, cs, k in rows if k[0] == 'thread') / n))
            for t, cs, (kind, i, name) in rows:
                if t > 0 or cs > n / 100:
                    print('  cpu %-7s %-7d %-24s %8.0f us/exec %6.2f switches/exec' % (kind, i, name, t / n * 1e6,
                                                                                     cs / n))
        if a.samples:
            with open(a.samples, 'w') as f:
                for name, v in samples.items():
                    for w, d in v:
                        f.write('%s %d %d\n' % (name, w, d))
        raw.roundtrip(request('DELETE', '/v1/sessions/' + sid, {}))
    finally:
        p.terminate()
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        if a.keep_server:
            print('data dir kept:', data)
        else:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == '__main__':
    main()
