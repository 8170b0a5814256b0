"""Operators' one-time codes (RFC 6238) and what each role may do."""

from __future__ import annotations

import base64
import functools
import uuid
from datetime import UTC, datetime

from services.booking.domain.operators import (
    Acting,
    Role,
    account_change_refusal,
    bootstrap,
    provisioning_uri,
    totp_at,
    totp_matches,
    totp_now,
    totp_step,
)

#: RFC 6238 appendix B's SHA-1 key, in base32 as authenticator apps take it.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


def test_codes_match_rfc_6238s_test_vectors() -> None:
    vectors = {59: "94287082", 1111111109: "07081804", 1234567890: "89005924"}
    for seconds, code in vectors.items():
        assert totp_at(RFC_SECRET, seconds // 30, digits=8) == code


def test_a_code_is_accepted_one_step_either_side_and_never_twice() -> None:
    moment = datetime(2026, 12, 2, 1, 0, 10, tzinfo=UTC)
    step = totp_step(moment)
    assert totp_matches(RFC_SECRET, totp_now(RFC_SECRET, moment), moment, None) == step
    assert totp_matches(RFC_SECRET, totp_at(RFC_SECRET, step - 1), moment, None) == step - 1
    assert totp_matches(RFC_SECRET, totp_at(RFC_SECRET, step + 2), moment, None) is None
    # Used once: refused after, and so is any code from before it.
    assert totp_matches(RFC_SECRET, totp_now(RFC_SECRET, moment), moment, step) is None
    assert totp_matches(RFC_SECRET, totp_at(RFC_SECRET, step - 1), moment, step) is None
    assert totp_matches(RFC_SECRET, "12345", moment, None) is None
    assert totp_matches(RFC_SECRET, "abcdef", moment, None) is None


def test_the_provisioning_address_carries_the_secret_and_issuer() -> None:
    uri = provisioning_uri(RFC_SECRET, "ana@kith.example")
    assert uri.startswith("otpauth://totp/Kith%20operators%3Aana%40kith.example?")
    assert f"secret={RFC_SECRET}" in uri


def test_every_role_does_a_coordinators_work_and_only_some_more() -> None:
    coordinator = Acting(None, "Cora", frozenset({Role.COORDINATOR}))
    lead = Acting(None, "Sam", frozenset({Role.SAFEGUARDING_LEAD}))
    assert lead.may(Role.COORDINATOR)
    assert lead.may(Role.SAFEGUARDING_LEAD)
    assert not coordinator.may(Role.SAFEGUARDING_LEAD)
    assert not lead.may(Role.ADMINISTRATOR)
    assert all(bootstrap().may(role) for role in Role)


def test_only_the_bootstrap_administrator_may_say_whom_it_records_for() -> None:
    assert bootstrap().named("Sam").stamp == "operator:Sam"
    signed_in = Acting(uuid.uuid4(), "Ana", frozenset({Role.COORDINATOR}))
    assert signed_in.named("Someone else").stamp == "operator:Ana"


def test_nobody_disables_themselves_and_one_administrator_always_remains() -> None:
    me, other = uuid.uuid4(), uuid.uuid4()
    # A coordinator's account (no administrator before or after), with one administrator left.
    change = functools.partial(
        account_change_refusal,
        disabling=True,
        admin_before=False,
        admin_after=False,
        enabled_admins=1,
    )
    assert "your own account" in str(change(me, me))
    assert change(me, other) is None
    # Demoting or disabling the last enabled administrator, by anyone: refused.
    for by in (me, None):
        last = account_change_refusal(
            by, other, disabling=False, admin_before=True, admin_after=False, enabled_admins=1
        )
        assert last == "this is the last administrator: make another one first"
    assert (
        account_change_refusal(
            me, other, disabling=True, admin_before=True, admin_after=False, enabled_admins=2
        )
        is None
    )
    # A coordinator's account changes freely, even with one administrator.
    assert change(None, other) is None
