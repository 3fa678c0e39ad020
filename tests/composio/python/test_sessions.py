"""The app changes a live session's configuration, and ends sessions it no longer needs."""

import pytest
from composio_client import NotFoundError

from conftest import composio_for


def test_update_changes_the_toolkits_and_connection_management(broker):
    composio = composio_for(broker)
    session = composio.create(user_id="u_update", toolkits=["sandbox"])
    version = session.config_version
    assert "COMPOSIO_MANAGE_CONNECTIONS" in {t["function"]["name"] for t in session.tools()}

    config = session.update(toolkits={"enable": ["sandbox", "github"]}, manage_connections={"enable": False})
    assert config.toolkits.enabled == ["sandbox", "github"]
    assert config.manage_connections.enabled is False
    assert session.config_version > version
    assert {tk.slug for tk in session.toolkits().items} == {"sandbox", "github"}
    assert "COMPOSIO_MANAGE_CONNECTIONS" not in {t["function"]["name"] for t in session.tools()}

    # Another process sees the same configuration.
    again = composio.use(session.session_id)
    assert again.config.toolkits.enabled == ["sandbox", "github"]
    assert again.config_version == session.config_version


def test_an_update_against_a_stale_version_is_refused(broker):
    from composio import exceptions

    composio = composio_for(broker)
    session = composio.create(user_id="u_stale", toolkits=["sandbox"])
    stale = session.config_version
    session.update(toolkits={"enable": ["github"]})
    with pytest.raises(exceptions.SessionConfigConflictError):
        session.update(toolkits={"enable": ["slack"]}, expected_config_version=stale)
    assert composio.use(session.session_id).config.toolkits.enabled == ["github"]


def test_delete_ends_the_session(broker):
    composio = composio_for(broker)
    session = composio.create(user_id="u_delete", toolkits=["sandbox"])
    assert session.delete() == {"session_id": session.session_id, "deleted": True}
    with pytest.raises(NotFoundError):
        composio.use(session.session_id)
    with pytest.raises(NotFoundError):
        session.delete()

    other = composio.create(user_id="u_delete", toolkits=["sandbox"])
    composio.sessions.delete(other.session_id)
    with pytest.raises(NotFoundError):
        other.toolkits()
