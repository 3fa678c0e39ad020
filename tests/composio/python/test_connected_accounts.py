"""The app's backend manages its users' connected accounts with `composio.connected_accounts`:
lists them with filters and pages, reads one, disables and re-enables it, re-connects it
(refresh: same id, a fresh link), revokes it at the provider and deletes it. The credential
itself never comes back in any answer."""

import json
import time
import warnings

import pytest
from composio import exceptions
from composio_client import NotFoundError

from conftest import (APP, EXCHANGES, Browser, complete_link, composio_for, query,
                      user_completes_after_the_wait_started)

def connect(composio, user_id, toolkit, *, login="alice", alias=None):
    session = composio.create(user_id=user_id, toolkits=[toolkit], manage_connections=False)
    request = session.authorize(toolkit, alias=alias)
    complete_link(request.redirect_url, toolkit, login=login)
    assert request.wait_for_connection(timeout=30).status == "ACTIVE"
    return session, request.id


def link_leads_on(url):
    """Whether opening a Connect Link still sends the browser on to the provider."""
    status, *_ = Browser().request(url)
    return 300 <= status < 400


def who_am_i(session):
    result = session.execute("OIDC_GET_CURRENT_USER", arguments={})
    return result.data.get("sub") if result.result_type == "completed" else None


def test_an_account_has_data_params_and_state_and_never_the_credential(proxied_oidc):
    composio = composio_for(proxied_oidc)
    _, account_id = connect(composio, "alice_app_id", "oidc")
    mark = len(EXCHANGES)

    account = composio.connected_accounts.get(account_id)
    assert account.id == account_id and account.status == "ACTIVE"
    assert account.user_id == "alice_app_id" and account.toolkit.slug == "oidc"
    assert isinstance(account.data, dict)
    assert isinstance(account.params, dict)
    assert account.state is not None
    assert account.auth_config.auth_scheme == "OAUTH2" and account.auth_config.id
    assert account.is_disabled is False and account.created_at and account.updated_at
    listed = composio.connected_accounts.list(user_ids=["alice_app_id"])
    [item] = listed.items
    assert item.id == account_id and isinstance(item.data, dict) and item.state is not None

    # Neither answer carries a token the provider issued, under any name.
    tokens = proxied_oidc.proxy.issued_tokens()
    assert tokens, "the provider issued tokens to the broker"
    answers = [json.dumps(x["answer"]) for x in EXCHANGES[mark:]]
    assert len(answers) == 2
    for text in answers:
        assert not [t for t in tokens if t in text], "a token the provider issued is in the API answer"


def test_list_filters_order_and_pages(broker):
    composio = composio_for(broker)
    _, first = connect(composio, "u_list", "sandbox", alias="work")
    _, second = connect(composio, "u_list", "sandbox", alias="home")
    pending = composio.create(user_id="u_list", toolkits=["sandbox"], manage_connections=False).authorize("sandbox").id
    _, other = connect(composio, "u_list_other", "sandbox")
    mine = [first, second, pending]

    ids = lambda page: [a.id for a in page.items]  # noqa: E731
    assert sorted(ids(composio.connected_accounts.list(user_ids=["u_list"]))) == sorted(mine)
    assert sorted(ids(composio.connected_accounts.list(user_ids=["u_list"], statuses=["ACTIVE"]))) == sorted([first, second])
    assert ids(composio.connected_accounts.list(user_ids=["u_list"], statuses=["INITIATED"])) == [pending]
    assert sorted(ids(composio.connected_accounts.list(toolkit_slugs=["sandbox"], user_ids=["u_list", "u_list_other"]))) \
        == sorted(mine + [other])
    assert ids(composio.connected_accounts.list(toolkit_slugs=["github"], user_ids=["u_list"])) == []
    assert sorted(ids(composio.connected_accounts.list(connected_account_ids=[first, other]))) == sorted([first, other])

    oldest_first = ids(composio.connected_accounts.list(user_ids=["u_list"], order_by="created_at", order_direction="asc"))
    assert oldest_first == mine
    newest_first = ids(composio.connected_accounts.list(user_ids=["u_list"], order_by="created_at", order_direction="desc"))
    assert newest_first == list(reversed(mine))

    page = composio.connected_accounts.list(user_ids=["u_list"], limit=2, order_by="created_at", order_direction="asc")
    assert ids(page) == mine[:2] and page.next_cursor and page.total_items == 3 and page.total_pages == 2
    rest = composio.connected_accounts.list(user_ids=["u_list"], limit=2, cursor=page.next_cursor,
                                            order_by="created_at", order_direction="asc")
    assert ids(rest) == mine[2:] and not rest.next_cursor


def test_disable_enable_and_delete(broker):
    composio = composio_for(broker)
    _, account_id = connect(composio, "u_toggle", "sandbox")
    assert composio.connected_accounts.disable(account_id).success
    assert composio.connected_accounts.get(account_id).is_disabled is True
    assert composio.connected_accounts.enable(account_id).success
    assert composio.connected_accounts.get(account_id).is_disabled is False

    assert composio.connected_accounts.delete(account_id).success
    with pytest.raises(NotFoundError):
        composio.connected_accounts.get(account_id)
    assert composio.connected_accounts.list(user_ids=["u_toggle"]).items == []


def test_refresh_reconnects_the_same_account_with_a_fresh_link(oidc):
    composio = composio_for(oidc)
    session, account_id = connect(composio, "u_refresh", "oidc", login="alice")
    assert who_am_i(session) == "alice"

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", exceptions.ComposioDeprecationWarning)
        older = composio.connected_accounts.refresh(account_id)
        refreshed = composio.connected_accounts.refresh(account_id, body_redirect_url=f"{APP}/done?again=1")
    assert refreshed.id == account_id == older.id
    assert refreshed.redirect_url and refreshed.redirect_url != older.redirect_url

    # While the new link is pending the account keeps working as it was.
    assert composio.connected_accounts.get(account_id).status == "ACTIVE"
    assert who_am_i(session) == "alice"

    # The older link no longer leads to the provider.
    assert not link_leads_on(older.redirect_url)
    assert composio.connected_accounts.get(account_id).status == "ACTIVE"

    # The user completes the fresh one, as someone else this time: same id, new credentials.
    kind, ended = complete_link(refreshed.redirect_url, "oidc", login="bob")
    assert kind == "stopped"
    assert query(ended) == {"again": "1", "status": "success", "connected_account_id": account_id}
    account = composio.connected_accounts.get(account_id)
    assert (account.id, account.status) == (account_id, "ACTIVE")
    assert who_am_i(session) == "bob"
    assert [a.id for a in composio.connected_accounts.list(user_ids=["u_refresh"]).items] == [account_id]


def test_a_denied_refresh_leaves_the_account_as_it_was(oidc):
    composio = composio_for(oidc)
    session, account_id = connect(composio, "u_refresh_denied", "oidc", login="alice")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", exceptions.ComposioDeprecationWarning)
        refreshed = composio.connected_accounts.refresh(account_id)
    complete_link(refreshed.redirect_url, "oidc", allow=False)
    account = composio.connected_accounts.get(account_id)
    assert account.status == "ACTIVE", account.status_reason
    assert who_am_i(session) == "alice"


def test_an_expired_refresh_link_leaves_the_account_as_it_was(short_links_broker):
    composio = composio_for(short_links_broker)
    session, account_id = connect(composio, "u_refresh_expired", "sandbox")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", exceptions.ComposioDeprecationWarning)
        refreshed = composio.connected_accounts.refresh(account_id)
    time.sleep(3)  # past the broker's 2-second link lifetime
    assert not link_leads_on(refreshed.redirect_url)
    account = composio.connected_accounts.get(account_id)
    assert account.status == "ACTIVE"
    ran = session.execute("SANDBOX_GET_CURRENT_USER", arguments={})
    assert ran.result_type == "completed", ran


def test_waiting_on_a_refreshed_account_resolves_when_the_user_completes_it(broker):
    composio = composio_for(broker)
    _, account_id = connect(composio, "u_refresh_wait", "sandbox")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", exceptions.ComposioDeprecationWarning)
        refreshed = composio.connected_accounts.refresh(account_id)
    user, _ = user_completes_after_the_wait_started(account_id, refreshed.redirect_url, "sandbox")
    account = composio.connected_accounts.wait_for_connection(account_id, timeout=30)
    user.join(10)
    assert (account.id, account.status) == (account_id, "ACTIVE")


def test_revoke_revokes_the_token_at_the_provider(proxied_oidc):
    composio = composio_for(proxied_oidc)
    session, account_id = connect(composio, "u_revoke", "oidc")
    issued = proxied_oidc.proxy.issued_tokens()

    result = composio.connected_accounts.revoke(account_id)
    assert result.connected_account.id == account_id
    assert result.connected_account.status == "REVOKED"
    assert set(result.revoked_tokens) & {"access_token", "refresh_token"}

    calls = proxied_oidc.proxy.calls_to(proxied_oidc.revocation_path)
    assert calls and all(c["method"] == "POST" for c in calls), "the broker called the RFC 7009 endpoint"
    sent = {query("http://x/?" + c["body"]).get("token") for c in calls}
    assert sent & issued, "the revoked token is one the provider issued"
    assert composio.connected_accounts.get(account_id).status == "REVOKED"
    assert session.execute("OIDC_GET_CURRENT_USER", arguments={}).result_type == "failed"

    again = composio.connected_accounts.revoke(account_id)
    assert again.revoked_tokens == [] and again.connected_account.status == "REVOKED"


def test_revoke_of_a_sandbox_account(broker):
    composio = composio_for(broker)
    session, account_id = connect(composio, "u_revoke_sandbox", "sandbox")
    result = composio.connected_accounts.revoke(account_id)
    assert result.connected_account.status == "REVOKED" and result.revoked_tokens
    assert session.execute("SANDBOX_GET_CURRENT_USER", arguments={}).result_type == "failed"


def test_delete_with_revoke_on_delete_revokes_at_the_provider(proxied_oidc):
    composio = composio_for(proxied_oidc)
    _, account_id = connect(composio, "u_delete_revoke", "oidc")
    assert composio.connected_accounts.delete(account_id, revoke_on_delete=True).success
    assert proxied_oidc.proxy.calls_to(proxied_oidc.revocation_path)
    with pytest.raises(NotFoundError):
        composio.connected_accounts.get(account_id)


def test_delete_without_revoke_on_delete_does_not_call_the_provider(proxied_oidc):
    composio = composio_for(proxied_oidc)
    _, account_id = connect(composio, "u_delete_plain", "oidc")
    assert composio.connected_accounts.delete(account_id).success
    assert proxied_oidc.proxy.calls_to(proxied_oidc.revocation_path) == []
