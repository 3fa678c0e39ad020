"""The blocking API in Python's own runtime: waits release the GIL and Ctrl-C interrupts them.
The stories themselves (connect while waiting, denied, timeout, expired link…) are shared:
tests/scenarios/stories.json, run by test_scenarios.py with both clients."""

import os
import signal
import threading
import time

import pytest

from conftest import Browser
from grantline import Grantline


def client(broker):
    return Grantline(api_key=broker.api_key, base_url=broker.base_url)


def test_several_threads_wait_at_once_while_python_keeps_running(broker):
    gl = client(broker)
    session = gl.create(user_id="u", toolkits=["sandbox"], manage_connections=False)
    reqs = [session.authorize("sandbox", alias=f"work{i}") for i in range(4)]
    results, ticks, done = {}, [0], threading.Event()

    def tick():  # pure-Python work that only runs if the waiters released the GIL
        while not done.is_set():
            ticks[0] += 1
            time.sleep(0.001)

    ticker = threading.Thread(target=tick)
    ticker.start()
    waiters = [threading.Thread(target=lambda r=r: results.__setitem__(r.id, r.wait_for_connection(timeout=60.0))) for r in reqs]
    for w in waiters:
        w.start()
    time.sleep(0.3)
    before = ticks[0]
    for r in reqs:
        Browser().sandbox_consent(r.redirect_url)
    for w in waiters:
        w.join(timeout=30)
    done.set()
    ticker.join()
    assert sorted(results) == sorted(r.id for r in reqs)
    assert all(a.status == "ACTIVE" for a in results.values())
    assert before > 10, "Python threads ran while four waits were blocked"


def test_ctrl_c_interrupts_a_blocked_wait(broker):
    req = client(broker).create(user_id="u", toolkits=["sandbox"], manage_connections=False).authorize("sandbox")
    # Python's own Ctrl-C handler, even where a parent shell started us with SIGINT ignored.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            req.wait_for_connection(timeout=30.0)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - started < 25, "the wait ended on Ctrl-C, not at its timeout"
