"""A client token in Python's hands: its secret stays out of repr and it lasts 15 minutes by
default. What a page can do with it, and that a revoked or expired one stops working, are shared
stories (tests/scenarios/stories.json, run by test_scenarios.py)."""

from datetime import datetime, timezone

from grantline import ClientToken, Grantline


def test_a_minted_token_hides_its_secret_and_lasts_fifteen_minutes(broker):
    session = Grantline(api_key=broker.api_key, base_url=broker.base_url).create(user_id="web-user", toolkits=["sandbox"])
    minted = session.client_token()
    assert isinstance(minted, ClientToken)
    assert minted.token not in repr(minted) and minted.id in repr(minted)
    expires = datetime.fromisoformat(minted.expires_at.replace("Z", "+00:00"))
    assert 14 * 60 < (expires - datetime.now(timezone.utc)).total_seconds() <= 15 * 60
