"""Operator sessions and the pages' policy: signed, expiring, and nothing inline but our own."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta

from services.ops.entrypoints.http.pages import console_page, login_page, policy_for
from services.ops.entrypoints.http.session import (
    LIFETIME,
    new_session,
    session_valid,
    token_matches,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TOKEN = "operators-token-for-tests"


def test_a_session_is_valid_until_it_expires_and_only_for_its_token() -> None:
    cookie = new_session(TOKEN, NOW)
    assert session_valid(TOKEN, cookie, NOW)
    assert session_valid(TOKEN, cookie, NOW + LIFETIME - timedelta(seconds=1))
    assert not session_valid(TOKEN, cookie, NOW + LIFETIME)
    assert not session_valid("another-token", cookie, NOW), "a new token signs everyone out"
    assert not session_valid(None, cookie, NOW)


def test_a_tampered_session_is_refused() -> None:
    expires, _, signature = new_session(TOKEN, NOW).partition(".")
    later = str(int(expires) + 3600)
    assert not session_valid(TOKEN, f"{later}.{signature}", NOW)
    assert not session_valid(TOKEN, f"{expires}.{'0' * len(signature)}", NOW)
    assert not session_valid(TOKEN, "garbage", NOW)
    assert not session_valid(TOKEN, "", NOW)


def test_the_token_must_be_set_and_match() -> None:
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches(TOKEN, TOKEN[:-1])
    assert not token_matches(None, "")
    assert not token_matches("", "")


def test_the_policy_allows_exactly_the_pages_own_script_and_style() -> None:
    page = console_page()
    script = re.search(r"<script>(.*?)</script>", page.html, re.DOTALL)
    assert script is not None
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page.policy
    assert "default-src 'none'" in page.policy
    assert "unsafe-inline" not in page.policy
    assert 'value="requests"' in page.html, "the stream filter offers the streams"
    assert policy_for("<p>no script</p>").count("'none'") >= 3


def test_the_sign_in_message_is_escaped() -> None:
    page = login_page("<script>alert(1)</script>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.html
    assert page.html.count("<script>") == 0
