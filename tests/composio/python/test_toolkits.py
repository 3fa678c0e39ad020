"""The app shows its user which toolkits of the session are connected, page by page, filtered."""

from conftest import complete_link, composio_for

TOOLKITS = ["sandbox", "github", "slack", "gmail", "hackernews"]


def connected_session(broker, user_id):
    composio = composio_for(broker)
    session = composio.create(user_id=user_id, toolkits=TOOLKITS, manage_connections=False)
    request = session.authorize("sandbox")
    complete_link(request.redirect_url, "sandbox")
    request.wait_for_connection(timeout=30)
    return session, request.id


def test_the_toolkit_list_shows_each_toolkits_connection(broker):
    session, account_id = connected_session(broker, "u_toolkits")
    page = session.toolkits()
    by_slug = {tk.slug: tk for tk in page.items}
    assert set(by_slug) == set(TOOLKITS)
    assert page.total_pages == 1 and page.next_cursor is None

    sandbox = by_slug["sandbox"]
    assert sandbox.name and sandbox.logo and not sandbox.is_no_auth
    assert sandbox.connection.is_active
    assert sandbox.connection.connected_account.id == account_id
    assert sandbox.connection.connected_account.status == "ACTIVE"
    assert sandbox.connection.auth_config.mode == "OAUTH2"
    assert by_slug["github"].connection.is_active is False
    assert by_slug["github"].connection.connected_account is None
    assert by_slug["hackernews"].is_no_auth and by_slug["hackernews"].connection is None


def test_filters_narrow_the_list(broker):
    session, _ = connected_session(broker, "u_filters")
    assert [tk.slug for tk in session.toolkits(is_connected=True).items] == ["sandbox"]
    assert "sandbox" not in {tk.slug for tk in session.toolkits(is_connected=False).items}
    assert [tk.slug for tk in session.toolkits(toolkits=["github", "slack"]).items] == ["github", "slack"]
    assert [tk.slug for tk in session.toolkits(search="git").items] == ["github"]


def test_pages_walk_every_toolkit_once(broker):
    session, _ = connected_session(broker, "u_pages")
    seen, cursor, pages = [], None, 0
    while True:
        page = session.toolkits(limit=2, next_cursor=cursor)
        assert len(page.items) <= 2
        assert page.total_pages == 3
        seen += [tk.slug for tk in page.items]
        pages += 1
        cursor = page.next_cursor
        if not cursor:
            break
    assert pages == 3
    assert sorted(seen) == sorted(TOOLKITS) and len(seen) == len(set(seen))


def test_the_session_tools_are_the_meta_tools_in_the_models_format(broker):
    composio = composio_for(broker)
    session = composio.create(user_id="u_tools", toolkits=["sandbox"])
    tools = session.tools()
    by_name = {t["function"]["name"]: t for t in tools}
    assert {"COMPOSIO_SEARCH_TOOLS", "COMPOSIO_MULTI_EXECUTE_TOOL", "COMPOSIO_MANAGE_CONNECTIONS",
            "COMPOSIO_GET_TOOL_SCHEMAS"} <= set(by_name)
    search = by_name["COMPOSIO_SEARCH_TOOLS"]["function"]
    assert search["description"]
    assert "queries" in search["parameters"]["properties"]
