"""Listing a session's toolkits page by page, and its meta tools."""

from grantline import Grantline


def test_pages_cover_every_toolkit_exactly_once(broker):
    session = Grantline(api_key=broker.api_key, base_url=broker.base_url).create(user_id="u")
    first = session.toolkits(limit=7)
    assert first.total_items > 20 and len(first.items) == 7 and first.current_page == 1
    assert first.total_pages == -(-first.total_items // 7)
    slugs, page = [], first
    while True:
        slugs += [t.slug for t in page.items]
        if page.next_cursor is None:
            break
        page = session.toolkits(limit=7, cursor=page.next_cursor)
    assert len(slugs) == len(set(slugs)) == first.total_items
    assert [t.slug for t in session.all_toolkits()] == slugs

    picked = session.toolkits(toolkits=["github", "slack"])
    assert sorted(t.slug for t in picked.items) == ["github", "slack"]
    assert [t.slug for t in session.toolkits(search="hacker").items] == ["hackernews"]
    assert session.toolkits(is_connected=True).total_items == 0


def test_meta_tools_follow_manage_connections(broker):
    gl = Grantline(api_key=broker.api_key, base_url=broker.base_url)
    on = gl.create(user_id="u", toolkits=["sandbox"])
    tools = on.tools()
    assert "COMPOSIO_MANAGE_CONNECTIONS" in [t.slug for t in tools]
    manage = next(t for t in tools if t.slug == "COMPOSIO_MANAGE_CONNECTIONS")
    assert manage.input_parameters["type"] == "object"
    off = gl.create(user_id="u", toolkits=["sandbox"], manage_connections=False)
    assert "COMPOSIO_MANAGE_CONNECTIONS" not in [t.slug for t in off.tools()]
    assert gl.use(off.session_id).session_id == off.session_id
