"""Python SDK figures: `import grantline` time and memory beside `import composio`, and how
fast a blocked `wait_for_connection` returns after the user's callback. Prints; asserts nothing.

Usage: python bench.py --composio-python PATH [--runs 7] [--flows 200]
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

PROBE = """
import json, time
def rss_kib():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
before = rss_kib()
t = time.perf_counter()
import {module}
dt = time.perf_counter() - t
after = rss_kib()
print(json.dumps({{"ms": dt * 1000, "rss_kib": after, "added_kib": after - before}}))
"""


def import_cost(python, module, runs):
    samples = [json.loads(subprocess.check_output([python, "-c", PROBE.format(module=module)], text=True))
               for _ in range(runs)]
    return {k: statistics.median(s[k] for s in samples) for k in samples[0]}


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def wait_latency(flows):
    from conftest import Broker, Browser
    from grantline import Grantline

    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(Path(tmp))
        try:
            gl = Grantline(api_key=broker.api_key, base_url=broker.base_url)
            session = gl.create(user_id="bench", toolkits=["sandbox"], manage_connections=False)
            latencies = []
            for _ in range(flows):
                req = session.authorize("sandbox")
                woke = {}
                waiter = threading.Thread(target=lambda: (req.wait_for_connection(timeout=30.0), woke.setdefault("t", time.perf_counter())))
                waiter.start()
                Browser().sandbox_consent(req.redirect_url)  # returns once the broker answered the callback
                answered = time.perf_counter()
                waiter.join()
                latencies.append((woke["t"] - answered) * 1000)
            return latencies
        finally:
            broker.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--composio-python", help="a python with the `composio` package installed")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--flows", type=int, default=200)
    args = ap.parse_args()

    print(f"import cost, median of {args.runs} fresh interpreters (Python {sys.version.split()[0]}):")
    rows = [("grantline", sys.executable)]
    if args.composio_python:
        rows.append(("composio", args.composio_python))
    for module, python in rows:
        c = import_cost(python, module, args.runs)
        print(f"  import {module:<10} {c['ms']:8.1f} ms   RSS after {c['rss_kib'] / 1024:6.1f} MiB (+{c['added_kib'] / 1024:.1f} MiB)")

    lat = wait_latency(args.flows)
    print(f"wait_for_connection after the callback answered, {len(lat)} flows (a waiting thread on the long-poll):")
    print(f"  p50 {percentile(lat, 50):.2f} ms   p99 {percentile(lat, 99):.2f} ms   max {max(lat):.2f} ms")
    print("  (negative: the waiter woke before the browser had read the callback's response)")


if __name__ == "__main__":
    main()
