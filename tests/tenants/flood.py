"""Tenant A floods the REST produce route far over its quota while tenant B
produces one record at a time; prints B's latency percentiles unloaded and
loaded (rounds interleaved, so drift of a shared machine hits both alike) and
what A's requests were answered.

usage: flood.py <base url> <A key> <A topic> <B key> <B topic>
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

base, a_key, a_topic, b_key, b_topic = sys.argv[1:6]
host = urllib.parse.urlparse(base)
BODY = json.dumps({"records": [{"value": {"n": 1, "pad": "x" * 200}}]})
HEADERS = {"Content-Type": "application/vnd.kafka.json.v2+json"}


def conn():
    return http.client.HTTPConnection(host.hostname, host.port, timeout=30)


def post(c, key, topic):
    c.request("POST", "/topics/" + topic, BODY, dict(HEADERS, **{"x-api-key": key}))
    r = c.getresponse()
    r.read()
    return r.status


def measure(n):
    c = conn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        status = post(c, b_key, b_topic)
        out.append((time.perf_counter() - t) * 1000)
        if status != 200:
            sys.exit("B's produce answered %d" % status)
    c.close()
    return out


stop = threading.Event()
answers = {}
lock = threading.Lock()


def flood(rate):
    """One keep-alive connection sending `rate` requests/s."""
    c = conn()
    gap = 1.0 / rate
    nxt = time.perf_counter()
    while not stop.is_set():
        status = post(c, a_key, a_topic)
        with lock:
            answers[status] = answers.get(status, 0) + 1
        nxt += gap
        delay = nxt - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        else:
            nxt = time.perf_counter()
    c.close()


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p))]


measure(50)  # warm up: topics created, connections open
unloaded, loaded = [], []
for _ in range(3):
    unloaded += measure(150)
    stop.clear()
    flooders = [threading.Thread(target=flood, args=(250,)) for _ in range(4)]
    for f in flooders:
        f.start()
    time.sleep(0.3)
    loaded += measure(150)
    stop.set()
    for f in flooders:
        f.join()
print(json.dumps({
    "unloaded_p50_ms": round(pct(unloaded, 0.5), 3), "unloaded_p99_ms": round(pct(unloaded, 0.99), 3),
    "loaded_p50_ms": round(pct(loaded, 0.5), 3), "loaded_p99_ms": round(pct(loaded, 0.99), 3),
    "a_answers": {str(k): v for k, v in answers.items()},
}))
