"""An app that verifies its users on Connect Links: the broker sends the person's browser to the
app's verification page with a one-time flow id, and the app's backend says who is signed in
(`confirm_user`). Only the user the link was started for gets through; anyone else ends it."""

import asyncio
import json
import urllib.error
import urllib.request

import pytest

from grantline import AsyncGrantline, ConflictError, Grantline, NotFoundError, ProjectInfo, UserVerification, ValidationError

VERIFIER = "https://app.example.com/verify"


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def turn_on_verification(broker):
    req = urllib.request.Request(
        f"{broker.base_url}/api/v3.1/project",
        method="PATCH",
        data=json.dumps({"display_name": "Acme", "user_verification_url": VERIFIER, "verify_connect_links": True}).encode(),
        headers={"x-api-key": broker.api_key, "content-type": "application/json"},
    )
    with urllib.request.urlopen(req) as resp:
        assert json.loads(resp.read())["verify_connect_links"] is True


def open_link(url):
    """The person's browser opens the link: it is sent to the app's verifier; the flow id."""
    try:
        urllib.request.build_opener(NoRedirects).open(url)
    except urllib.error.HTTPError as e:
        assert e.code == 303
        location = e.headers["location"]
        assert location.startswith(VERIFIER + "?flow_id=uvf_"), location
        return location.split("flow_id=", 1)[1]
    raise AssertionError("the link did not go to the verifier")


def test_the_app_confirms_its_signed_in_user(broker):
    turn_on_verification(broker)
    gl = Grantline(api_key=broker.api_key, base_url=broker.base_url)
    request = gl.create(user_id="alice", toolkits=["sandbox"]).authorize("sandbox")
    flow_id = open_link(request.redirect_url)

    confirmed = gl.confirm_user(flow_id, "alice")
    assert isinstance(confirmed, UserVerification)
    assert confirmed.matched and confirmed.flow_id == flow_id
    assert confirmed.redirect_url == f"{broker.base_url}/verify/{flow_id}/return"
    with pytest.raises(ConflictError):
        gl.confirm_user(flow_id, "alice")


def test_another_user_ends_the_link(broker):
    turn_on_verification(broker)
    gl = Grantline(api_key=broker.api_key, base_url=broker.base_url)
    request = gl.create(user_id="mallory", toolkits=["sandbox"]).authorize("sandbox")
    flow_id = open_link(request.redirect_url)

    assert gl.confirm_user(flow_id, "bob").matched is False
    assert gl.connected_accounts.get(request.id).status == "FAILED"


def test_bad_flow_ids_are_refused(broker):
    gl = Grantline(api_key=broker.api_key, base_url=broker.base_url)
    with pytest.raises(ValidationError) as err:
        gl.confirm_user("not-a-flow", "alice")
    assert err.value.field == "flow_id"
    with pytest.raises(NotFoundError):
        gl.confirm_user("uvf_nosuchflow", "alice")


def test_the_async_client_confirms_too(broker):
    turn_on_verification(broker)

    async def story():
        gl = AsyncGrantline(api_key=broker.api_key, base_url=broker.base_url)
        session = await gl.create(user_id="alice", toolkits=["sandbox"])
        request = await session.authorize("sandbox")
        flow_id = await asyncio.to_thread(open_link, request.redirect_url)
        return await gl.confirm_user(flow_id, "alice")

    assert asyncio.run(story()).matched


def test_the_project_profile_is_read_and_changed_from_python(broker):
    gl = Grantline(api_key=broker.api_key, base_url=broker.base_url)
    info = gl.update_project(display_name="Acme", support_url="https://acme.example.com/help")
    assert isinstance(info, ProjectInfo)
    assert (info.display_name, info.support_url, info.verify_connect_links) == ("Acme", "https://acme.example.com/help", False)

    # What is left out is kept; None clears.
    info = gl.update_project(support_url=None)
    assert (info.display_name, info.support_url) == ("Acme", None)
    assert (gl.project().display_name, gl.project().support_url) == ("Acme", None)

    with pytest.raises(ValidationError) as err:
        gl.update_project(logo="logo.png")
    assert err.value.field == "logo"
    with pytest.raises(ValidationError) as err:
        gl.update_project(support_url="http://acme.example.com")
    assert err.value.field == "support_url"

    async def story():
        return await AsyncGrantline(api_key=broker.api_key, base_url=broker.base_url).update_project(display_name=None)

    assert asyncio.run(story()).display_name is None
