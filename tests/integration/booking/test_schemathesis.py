"""Property-based test of the whole API from its own OpenAPI document (schemathesis).

Schemathesis runs every phase (the documented examples, coverage of each constraint's edges,
fuzzing, and stateful sequences that follow the document's links) with every check it has:
no server error, status codes, content types, headers and bodies as documented, invalid data
refused and valid data accepted, required headers, ``Allow`` on a 405, authentication not
ignored, a deleted resource gone, a created one available. Calls carry a signed-in person's
token (the operators' token on operator routes); the run must find nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.integration.booking.conftest import Booking
from tests.integration.booking.support import is_stream, served, sign_up

schemathesis = pytest.importorskip("schemathesis")

#: Generated cases per operation in each phase; the whole run takes well under a minute.
EXAMPLES_PER_OPERATION = 6
PASSWORD = "a long enough password"
#: What schemathesis expects for schema-valid data by default.
VALID_DATA_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
#: Operations whose valid-looking data may still break a rule relating two values.
RELATIONAL_RULES = [
    ("POST", "/v1/requests"),
    ("POST", "/v1/bookings/{booking_id}/reschedule"),
    ("PUT", "/v1/me/availability"),
    # A link's token is valid only if Kith emailed it, unused and unexpired: state, not shape.
    ("POST", "/v1/auth/password-reset/confirm"),
    ("POST", "/v1/auth/email-verification/confirm"),
    # A home placed by lat and lng together or by a neighbourhood, which must be a real H3
    # cell (the pattern only says what one looks like).
    ("POST", "/v1/operator/people"),
]
# schemathesis draws from ``random`` inside its strategies, which hypothesis deprecates.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")


def _run(spec: dict[str, Any], base_url: str, email: str, operator: str) -> list[str]:
    """Run every phase and check against the served API; each failure found, described."""
    from schemathesis.config import SchemathesisConfig
    from schemathesis.core.failures import Failure
    from schemathesis.engine import events, from_schema

    def signed_in() -> str:
        answer = httpx.post(f"{base_url}/v1/sessions", json={"email": email, "password": PASSWORD})
        answer.raise_for_status()
        token: str = answer.json()["token"]
        return token

    streams = [
        path
        for path, item in spec["paths"].items()
        for definition in item.values()
        if isinstance(definition, dict) and is_stream(definition)
    ]
    config = SchemathesisConfig.from_dict(
        {
            "base-url": base_url,
            "seed": 20261201,
            "workers": 1,
            "checks": {"enabled": True},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": True, "max-steps": 10},
            },
            "generation": {"max-examples": EXAMPLES_PER_OPERATION, "database": "none"},
            "operations": [
                # Endless by design: tests/integration/booking/test_notices.py covers them.
                *({"include-path": path, "enabled": False} for path in streams),
                # Sign-up hashes each password with argon2 (a third of a second, by design):
                # the coverage phase's case per time zone would take minutes. Every other
                # phase still signs up, with zones drawn from the same list.
                {
                    "include-path": "/v1/people",
                    "include-method": "POST",
                    "phases": {"coverage": {"enabled": False}},
                },
                # Rules no JSON Schema can state, declared in these operations' descriptions:
                # a start in the future (it depends on the present), an hour's start before
                # its end and a first day before the last (each relates two fields).
                *(
                    {
                        "include-path": path,
                        "include-method": method,
                        "checks": {
                            "positive_data_acceptance": {
                                "expected-statuses": [*VALID_DATA_STATUSES, "422"]
                            }
                        },
                    }
                    for method, path in RELATIONAL_RULES
                ),
            ],
        }
    )
    schema = schemathesis.openapi.from_dict(spec, config=config)

    class Operator:
        def get(self, case: Any, context: Any) -> str:
            return operator

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    class Person(Operator):
        # A 401 (a sign-out ended every token of the person) signs in again.
        def get(self, case: Any, context: Any) -> str:
            return signed_in()

    schema.auth.auth().apply_to(path_regex="^/v1/operator")(Operator)
    schema.auth.auth().skip_for(path_regex="^/v1/operator")(Person)

    failures: list[str] = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    case = event.recorder.cases[case_id].value
                    failure: Failure = check.failure_info.failure
                    failures.append(
                        f"[{check.name}] {case.operation.label} {failure.title}: "
                        f"{failure.message[:400]}\n    {check.failure_info.code_sample[:600]}"
                    )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"error: {event!r}"[:1000])
        elif isinstance(event, events.EngineFinished):
            failures.extend(f"[after run] {f.title}: {f.message[:400]}" for f in event.failures)
    return sorted(set(failures))


async def test_every_check_and_phase_finds_nothing(booking: Booking) -> None:
    email = f"schema-{uuid.uuid4().hex[:10]}@example.org"
    await sign_up(booking.client, "Schema", email=email, password=PASSWORD)
    operator = booking.settings.operator_token
    assert operator is not None
    async with served(booking.runtime.app()) as base_url:
        spec = (await booking.client.get("/openapi.json")).json()
        failures = await asyncio.to_thread(_run, spec, base_url, email, operator.get_secret_value())
    assert not failures, f"{len(failures)} findings:\n\n" + "\n\n".join(failures)
