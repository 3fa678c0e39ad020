"""The Python developer's story, blocking API: connect a user's account and use it."""

import os
import signal
import threading
import time

import pytest

from conftest import APP, Browser, query
from grantline import (ConnectionRequestFailedError, ConnectionRequestTimeoutError, Grantline,
                       GrantlineError)


def client(broker):
    return Grantline(api_key=broker.api_key, base_url=broker.base_url)


def test_user_connects_at_a_real_provider_while_the_app_waits(oidc_broker):
    gl = client(oidc_broker)
    session = gl.create(user_id="user_123", toolkits=["oidc"], manage_connections=False)
    assert session.session_id.startswith("trs_")
    assert session.session_id in session.mcp.url
    req = session.authorize("oidc", callback_url=f"{APP}/done?tab=2")
    assert req.id.startswith("ca_")
    assert gl.connected_accounts.get(req.id).status == "INITIATED"

    # The app blocks in another thread before the user opens the link.
    result = {}
    waiter = threading.Thread(target=lambda: result.setdefault("account", req.wait_for_connection(timeout=60.0)))
    waiter.start()
    time.sleep(0.3)
    assert waiter.is_alive()

    outcome = Browser().oidc_sign_in(req.redirect_url)
    assert outcome[0] == "stopped", outcome
    back = query(outcome[1])
    assert (back["status"], back["connected_account_id"], back["tab"]) == ("success", req.id, "2")

    waiter.join(timeout=30)
    account = result["account"]
    assert (account.id, account.status, account.user_id, account.toolkit) == (req.id, "ACTIVE", "user_123", "oidc")
    assert account.is_active

    [tk] = session.toolkits().items
    assert tk.slug == "oidc" and tk.connection and tk.connection.is_active
    assert tk.connection.connected_account_id == req.id and tk.is_connected
    listed = gl.connected_accounts.list(user_ids=["user_123"], statuses=["ACTIVE"])
    assert [a.id for a in listed.items] == [req.id] and listed.total_items == 1

    gl.connected_accounts.delete(req.id)
    assert gl.connected_accounts.list(user_ids=["user_123"]).total_items == 0


def test_denied_consent_raises_connection_request_failed_at_once(oidc_broker):
    session = client(oidc_broker).create(user_id="u", toolkits=["oidc"], manage_connections=False)
    req = session.authorize("oidc", callback_url=f"{APP}/done")
    outcome = Browser().oidc_sign_in(req.redirect_url, consent="/abort")
    assert query(outcome[1])["status"] == "failed"
    with pytest.raises(ConnectionRequestFailedError) as err:
        req.wait_for_connection(timeout=30.0)
    assert err.value.code == "CONNECTION_REQUEST_FAILED"
    assert (err.value.account_status, err.value.status) == ("FAILED", 409)
    assert "access_denied" in err.value.status_reason
    assert err.value.connected_account_id == req.id


def test_waiting_past_the_timeout_raises_a_timeout_error(broker):
    session = client(broker).create(user_id="u", toolkits=["sandbox"], manage_connections=False)
    req = session.authorize("sandbox")
    with pytest.raises(ConnectionRequestTimeoutError) as err:
        req.wait_for_connection(timeout=0.5)
    assert isinstance(err.value, TimeoutError) and isinstance(err.value, GrantlineError)
    assert err.value.code == "CONNECTION_REQUEST_TIMEOUT" and err.value.connected_account_id == req.id
    assert client(broker).connected_accounts.get(req.id).status == "INITIATED", "a timeout changes nothing"


def test_an_expired_link_fails_the_wait_and_the_late_user_sees_a_clear_page(tmp_path):
    from conftest import Broker
    b = Broker(tmp_path, link_ttl_secs=1)
    try:
        session = client(b).create(user_id="u", toolkits=["sandbox"], manage_connections=False)
        req = session.authorize("sandbox", callback_url=f"{APP}/done")
        with pytest.raises(ConnectionRequestFailedError) as err:
            req.wait_for_connection(timeout=30.0)
        assert err.value.account_status == "EXPIRED"
        kind, _, status, html = Browser().walk(req.redirect_url)
        assert kind == "page" and status == 410 and "expired" in html
    finally:
        b.stop()


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
