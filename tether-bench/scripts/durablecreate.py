#!/usr/bin/env python3
"""What a durable create costs: the same creates on two servers, sqlite_sync full and normal.

Starts `java -jar tether.jar serve` twice (fresh data dirs, SQLite store, sandbox as the host
allows), one with `--sqlite-sync full` (the default) and one with `--sqlite-sync normal`, and
times over one keep-alive HTTP connection each: POST /v1/sessions of a plain session and of a
python session (a pool hit: 50 ms pause before each so the pool has refilled), each ended
untimed. The servers take turns in blocks of 10 creates, so load hits both alike.
usage: tether-bench/scripts/durablecreate.py JAVA tether-cli/target/tether.jar [CREATES]
"""
import http.client, json, os, statistics, subprocess, sys, tempfile, time

java, jar = sys.argv[1], sys.argv[2]
creates = int(sys.argv[3]) if len(sys.argv) > 3 else 300
BLOCK = 10


class Server:
    def __init__(self, sync):
        self.sync = sync
        self.data = tempfile.mkdtemp(prefix='sync-%s-' % sync)
        log = open(os.path.join(self.data, 'log'), 'w')
        self.p = subprocess.Popen([java, '--enable-native-access=ALL-UNNAMED', '-XX:+UseSerialGC', '-Xms16m',
                                   '-jar', jar, 'serve', '--port', '0', '--data-dir', self.data,
                                   '--runtimes', 'python', '--sqlite-sync', sync],
                                  stdout=log, stderr=subprocess.STDOUT)
        info = os.path.join(self.data, 'server.json')
        t0 = time.time()
        while not os.path.exists(info):
            if self.p.poll() is not None or time.time() - t0 > 60:
                sys.exit('server did not start: ' + open(os.path.join(self.data, 'log')).read()[-2000:])
            time.sleep(0.02)
        time.sleep(0.2)
        host, port = json.load(open(info))['url'].split('//')[1].split(':')
        self.c = http.client.HTTPConnection(host, int(port))
        self.h = {'Authorization': 'Bearer ' + open(os.path.join(self.data, 'admin-token')).read().strip(),
                  'Content-Type': 'application/json'}
        self.times = {'plain': [], 'python': []}

    def call(self, method, path, body=None):
        self.c.request(method, path, json.dumps(body) if body is not None else None, self.h)
        r = self.c.getresponse()
        d = r.read()
        if r.status >= 300:
            raise RuntimeError('%s %s: %s %s' % (method, path, r.status, d[:300]))
        return json.loads(d) if d else None

    def create(self, kind, timed):
        if kind == 'python':
            time.sleep(0.05)
        a = time.perf_counter()
        sid = self.call('POST', '/v1/sessions', {'runtime': kind} if kind == 'python' else {})['id']
        t = (time.perf_counter() - a) * 1e3
        self.call('DELETE', '/v1/sessions/' + sid)
        if timed:
            self.times[kind].append(t)

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(20)
        except subprocess.TimeoutExpired:
            self.p.kill()


servers = [Server('full'), Server('normal')]
try:
    for s in servers:
        for kind in ('plain', 'python'):
            for _ in range(20):
                s.create(kind, False)
    print('load before: %.2f' % os.getloadavg()[0])
    for kind in ('plain', 'python'):
        for _ in range(creates // BLOCK):
            for s in servers:
                for _ in range(BLOCK):
                    s.create(kind, True)
    print('load after: %.2f' % os.getloadavg()[0])
    for kind in ('plain', 'python'):
        for s in servers:
            t = sorted(s.times[kind])
            print('%-6s create, sqlite_sync %-6s n=%d median=%.3f ms p99=%.3f ms' % (
                kind, s.sync, len(t), statistics.median(t), t[int(len(t) * 0.99) - 1]))
finally:
    for s in servers:
        s.stop()
