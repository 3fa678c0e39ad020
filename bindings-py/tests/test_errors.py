"""Bad input and bad credentials raise typed errors that name what is wrong."""

import pytest

from grantline import AuthenticationError, Grantline, GrantlineError, NotFoundError, ValidationError


def test_a_validation_error_is_a_value_error(monkeypatch):
    """Python's own terms: a bad argument is also a ValueError. Which arguments are refused, and
    how they are named, is the shared matrix (tests/scenarios/bad_arguments.json, run by
    test_bad_arguments.py)."""
    monkeypatch.delenv("GRANTLINE_API_KEY", raising=False)
    with pytest.raises(ValidationError) as err:
        Grantline()
    assert err.value.field == "api_key" and isinstance(err.value, ValueError)


def test_reprs_never_show_a_secret(broker):
    gl = Grantline(api_key=broker.api_key, base_url=broker.base_url)
    session = gl.create(user_id="u", toolkits=["sandbox"])
    req = session.authorize("sandbox")
    secret = session.mcp.headers["Authorization"].removeprefix("Bearer ")
    assert secret.startswith("glmcp_")
    for obj in (gl, session, session.mcp, req, gl.connected_accounts.get(req.id), session.create_mcp_credential()):
        assert broker.api_key not in repr(obj)
        assert secret not in repr(obj)
    assert req.redirect_url.split("/")[-1] not in repr(req), "the link token stays out of repr"
    assert all(issubclass(c, GrantlineError) for c in (AuthenticationError, NotFoundError, ValidationError))


def test_every_error_code_arrives_as_its_class_with_its_fields():
    """The shared scenarios (tests/scenarios/errors.json, kept equal to the core by its tests),
    answered by a local server standing in for the broker's error answers."""
    import http.server
    import json
    import threading

    import grantline.errors
    from conftest import REPO

    scenarios = json.loads((REPO / "tests" / "scenarios" / "errors.json").read_text())
    answer = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the stdlib's name)
            body = json.dumps(answer["body"]).encode()
            self.send_response(answer["http_status"])
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        gl = Grantline(api_key="gl_test", base_url=f"http://127.0.0.1:{server.server_address[1]}")
        for scenario in scenarios:
            answer.update(scenario)
            with pytest.raises(GrantlineError) as err:
                gl.connected_accounts.get("ca_x")
            assert type(err.value) is getattr(grantline.errors, scenario["class"]), scenario["class"]
            assert str(err.value) == scenario["message"]
            for name, value in scenario["fields"].items():
                assert getattr(err.value, name) == value, (scenario["class"], name)
    finally:
        server.shutdown()


def test_a_kind_without_a_class_still_arrives_with_its_code(broker, monkeypatch):
    """An ``errors.py`` older than the extension (no class for a kind) still gives a
    GrantlineError carrying the kind's code, status and fields."""
    import grantline.errors

    monkeypatch.delattr(grantline.errors, "NotFoundError")
    gl = Grantline(api_key=broker.api_key, base_url=broker.base_url)
    with pytest.raises(GrantlineError) as err:
        gl.connected_accounts.get("ca_doesnotexist")
    assert type(err.value) is GrantlineError
    assert (err.value.code, err.value.status, err.value.id) == ("NOT_FOUND", 404, "ca_doesnotexist")
