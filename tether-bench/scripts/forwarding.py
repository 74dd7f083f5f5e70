#!/usr/bin/env python3
"""Forwarding overhead between two Tether nodes on one PostgreSQL database.

Usage: forwarding.py URL_OF_A URL_OF_B TOKEN [N]

Creates a Python session on node A, then times N requests about it sent straight to A and N
sent to B (which forwards them to A), interleaved so both see the same machine load: a touch
(the least a forwarded request does) and an execution of `1`. Prints one Markdown table row
per request kind: median and p99 in milliseconds, direct then forwarded, and the difference
of the medians. Each node is reached over one keep-alive connection (reopened when the
server closes it; those requests are timed on the new connection).
"""
import http.client
import json
import statistics
import sys
import time
from urllib.parse import urlsplit


def connect(url):
    u = urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


def main():
    a, b, token = sys.argv[1], sys.argv[2], sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    headers = {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'}

    def request(c, path, body):
        c.request('POST', path, body=json.dumps(body), headers=headers)
        r = c.getresponse()
        return r.status, r.getheader('Tether-Session'), r.read()

    def timed(c, path, body):
        try:
            start = time.perf_counter_ns()
            status, _, data = request(c, path, body)
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            c.close()
            c.connect()
            start = time.perf_counter_ns()
            status, _, data = request(c, path, body)
        elapsed = (time.perf_counter_ns() - start) / 1e6
        if status != 200:
            sys.exit('%s: %d %s' % (path, status, data))
        return elapsed

    def p99(xs):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(0.99 * len(xs)))]

    direct_c, forwarded_c = connect(a), connect(b)
    status, session, data = request(direct_c, '/v1/sessions', {'runtime': 'python'})
    if status != 201:
        sys.exit('create: %d %s' % (status, data))
    for kind, path, body in (('touch', '/v1/sessions/%s/touch' % session, {}),
                             ('execution of `1`', '/v1/sessions/%s/executions' % session, {'code': '1'})):
        for _ in range(50):  # warm-up
            timed(direct_c, path, body)
            timed(forwarded_c, path, body)
        direct, forwarded = [], []
        for _ in range(n):
            direct.append(timed(direct_c, path, body))
            forwarded.append(timed(forwarded_c, path, body))
        md, mf = statistics.median(direct), statistics.median(forwarded)
        print('| %s | %.2f | %.2f | %.2f | %.2f | %+.2f |' % (kind, md, p99(direct), mf, p99(forwarded), mf - md))


if __name__ == '__main__':
    main()
