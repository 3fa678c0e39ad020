"""Mistakes reach the app as the SDK's own exceptions, with a message that says what was wrong."""

import pytest
from composio_client import AuthenticationError, BadRequestError, NotFoundError

from conftest import composio_for


def test_an_unknown_session_is_not_found(broker):
    composio = composio_for(broker)
    with pytest.raises(NotFoundError) as err:
        composio.use("trs_doesnotexist")
    assert err.value.status_code == 404
    assert "trs_doesnotexist" in str(err.value)


def test_an_unknown_account_is_not_found(broker):
    composio = composio_for(broker)
    with pytest.raises(NotFoundError) as err:
        composio.connected_accounts.get("ca_doesnotexist")
    assert "ca_doesnotexist" in str(err.value)
    with pytest.raises(NotFoundError):
        composio.connected_accounts.delete("ca_doesnotexist")


def test_a_wrong_api_key_is_refused(broker):
    composio = composio_for(broker, api_key="gl_not_a_key_of_this_broker")
    with pytest.raises(AuthenticationError) as err:
        composio.create(user_id="u_bad_key", toolkits=["sandbox"])
    assert err.value.status_code == 401


def test_validation_errors_name_the_field(broker):
    composio = composio_for(broker)
    with pytest.raises(BadRequestError) as err:
        composio.create(user_id="", toolkits=["sandbox"])
    assert "user_id" in str(err.value)

    session = composio.create(user_id="u_validation", toolkits=["sandbox"], manage_connections=False)
    with pytest.raises((BadRequestError, NotFoundError)) as err:
        session.authorize("no_such_toolkit")
    assert "no_such_toolkit" in str(err.value) or "toolkit" in str(err.value)

    with pytest.raises(BadRequestError) as err:
        composio.connected_accounts.list(statuses=["NOT_A_STATUS"])
    assert "statuses" in str(err.value)


def test_require_approval_is_refused_naming_the_field(broker):
    composio = composio_for(broker)
    with pytest.raises(BadRequestError) as err:
        composio.create(user_id="u_approval", toolkits={"enable": ["sandbox"], "require_approval": ["sandbox"]})
    assert "require_approval" in str(err.value)


def test_error_bodies_are_the_composio_error_envelope(broker):
    composio = composio_for(broker)
    with pytest.raises(NotFoundError) as err:
        composio.connected_accounts.get("ca_doesnotexist")
    details = err.value.details  # the SDK's reading of {"error": {"message", "code", "slug", "status", ...}}
    assert details is not None, err.value.body
    assert details["status"] == 404 and isinstance(details["code"], int) and details["slug"]
