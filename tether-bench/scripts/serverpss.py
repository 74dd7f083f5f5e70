#!/usr/bin/env python3
"""Server JVM footprint and execute latency under given JVM options.

Starts `java OPTS -jar tether.jar serve` on a fresh data dir, warms it up over HTTP (8
concurrent python sessions x 500 executes, three rounds, each session ended), then 3,000
serial executes in one session (their median and p99), waits 5 s and reports the JVM's PSS
(smaps_rollup) and its threads.
usage: tether-bench/scripts/serverpss.py JAVA tether-cli/target/tether.jar [JVM options...]
(NMT=1 in the environment adds the JVM's native memory summary; start it with
-XX:NativeMemoryTracking=summary)
"""
import http.client, json, os, statistics, subprocess, sys, tempfile, threading, time

java, jar, opts = sys.argv[1], sys.argv[2], sys.argv[3:]
data = tempfile.mkdtemp(prefix='pss-')
cmd = [java, '--enable-native-access=ALL-UNNAMED', *opts, '-jar', jar, 'serve', '--port', '0',
       '--data-dir', data, '--runtimes', 'python', '--idle-timeout', 'none']
log = open(os.path.join(data, 'log'), 'w')
p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
try:
    info = os.path.join(data, 'server.json')
    t0 = time.time()
    while not os.path.exists(info):
        if p.poll() is not None or time.time() - t0 > 60:
            sys.exit('server did not start: ' + open(os.path.join(data, 'log')).read()[-2000:])
        time.sleep(0.02)
    time.sleep(0.2)
    url = json.load(open(info))['url']
    host, port = url.split('//')[1].split(':')
    token = open(os.path.join(data, 'admin-token')).read().strip()
    H = {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'}

    def conn():
        return http.client.HTTPConnection(host, int(port))

    def call(c, method, path, body=None):
        c.request(method, path, json.dumps(body) if body is not None else None, H)
        r = c.getresponse()
        d = r.read()
        if r.status >= 300:
            raise RuntimeError('%s %s: %s %s' % (method, path, r.status, d[:300]))
        return json.loads(d) if d else None

    def worker(n):
        c = conn()
        sid = call(c, 'POST', '/v1/sessions', {'runtime': 'python'})['id']
        call(c, 'POST', '/v1/sessions/%s/executions' % sid, {'code': 'x = 0'})
        for _ in range(n):
            call(c, 'POST', '/v1/sessions/%s/executions' % sid, {'code': 'x = x + 1'})
        call(c, 'DELETE', '/v1/sessions/%s' % sid)

    for rnd in range(3):
        ts = [threading.Thread(target=worker, args=(500,)) for _ in range(8)]
        [t.start() for t in ts]
        [t.join() for t in ts]
    c = conn()
    sid = call(c, 'POST', '/v1/sessions', {'runtime': 'python'})['id']
    call(c, 'POST', '/v1/sessions/%s/executions' % sid, {'code': 'x = 0'})
    lat = []
    for _ in range(3000):
        a = time.perf_counter()
        call(c, 'POST', '/v1/sessions/%s/executions' % sid, {'code': 'x = x + 1'})
        lat.append((time.perf_counter() - a) * 1e3)
    call(c, 'DELETE', '/v1/sessions/%s' % sid)
    time.sleep(5)
    roll = open('/proc/%d/smaps_rollup' % p.pid).read()
    pss = int([l for l in roll.splitlines() if l.startswith('Pss:')][0].split()[1]) / 1024
    threads = len(os.listdir('/proc/%d/task' % p.pid))
    if os.environ.get('NMT'):
        out = subprocess.run([os.path.join(os.path.dirname(java), 'jcmd'), str(p.pid), 'VM.native_memory', 'summary'],
                             capture_output=True, text=True).stdout
        print('\n'.join(l for l in out.splitlines() if 'committed=' in l and l.startswith('-') or l.startswith('Total')))
    lat.sort()
    print('opts=%r pss=%.1f MB threads=%d exec median=%.3f ms p99=%.3f ms' % (
        ' '.join(opts), pss, threads, statistics.median(lat), lat[int(len(lat) * 0.99)]))
finally:
    p.terminate()
    try:
        p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
    subprocess.run(['rm', '-rf', data])
