#!/usr/bin/env python3
"""Cold start of a Tether server: process start -> listening -> first execute answered, and the
median of the first 1,000 executions after it (one session, one keep-alive connection).

usage: tether-bench/scripts/coldstart.py RUNS -- COMMAND...
  e.g. coldstart.py 3 -- ./tether serve   (TETHER_AOT=off in the environment: without the cache)
The command gets `--port 0 --data-dir <fresh dir> --runtimes python` appended; each run starts
it afresh and stops it with SIGTERM.
"""
import http.client, json, os, subprocess, sys, tempfile, time, statistics
runs = int(sys.argv[1]); cmd = sys.argv[sys.argv.index('--') + 1:]
env = dict(os.environ)
res = []
for i in range(runs):
    data = tempfile.mkdtemp(prefix='cold-')
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd + ['--port', '0', '--data-dir', data, '--runtimes', 'python'], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=env)
    info = os.path.join(data, 'server.json')
    while not os.path.exists(info):
        if p.poll() is not None: sys.exit('server exited %s' % p.returncode)
        time.sleep(0.002)
    while True:
        try:
            url = json.load(open(info))['url']; break
        except Exception:
            time.sleep(0.002)
    t1 = time.perf_counter()
    host, port = url.split('//')[1].split(':')
    token = open(os.path.join(data, 'admin-token')).read().strip()
    H = {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'}
    c = http.client.HTTPConnection(host, int(port))
    c.request('POST', '/v1/sessions', json.dumps({'runtime': 'python'}), H); r = c.getresponse(); sid = json.loads(r.read())['id']
    c.request('POST', '/v1/sessions/%s/executions' % sid, json.dumps({'code': '1 + 1'}), H); r = c.getresponse(); r.read()
    t2 = time.perf_counter()
    lat = []
    for _ in range(1000):
        a = time.perf_counter()
        c.request('POST', '/v1/sessions/%s/executions' % sid, json.dumps({'code': 'x = 1'}), H); c.getresponse().read()
        lat.append(time.perf_counter() - a)
    res.append((t1 - t0, t2 - t0, statistics.median(lat)))
    p.terminate(); p.wait(30)
    subprocess.run(['rm', '-rf', data])
    print('run %d: listening %.0f ms, first execute answered %.0f ms, first 1000 executes median %.3f ms' % (i + 1, res[-1][0] * 1e3, res[-1][1] * 1e3, res[-1][2] * 1e3), flush=True)
print('median: first execute answered %.0f ms; first-1000 median %.3f ms' % (statistics.median(r[1] for r in res) * 1e3, statistics.median(r[2] for r in res) * 1e3))
