"""Property-based test of the whole API from its own OpenAPI document (schemathesis).

Every operation gets generated valid inputs with a signed-in person's token (the
operators' token on operator routes): no answer may be a server error, and every answer
must match the documented schema. Skipped until schemathesis is a dev dependency.
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

EXAMPLES_PER_OPERATION = 8
PASSWORD = "a long enough password"
# schemathesis draws from ``random`` inside its strategies, which hypothesis deprecates.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")


def _run(spec: dict[str, Any], base_url: str, email: str, operator: str) -> list[str]:
    """Drive every operation (blocking: runs in a thread while the server runs in the loop)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    def signed_in() -> str:
        answer = httpx.post(f"{base_url}/v1/sessions", json={"email": email, "password": PASSWORD})
        answer.raise_for_status()
        token: str = answer.json()["token"]
        return token

    def signs_out(operation: Any) -> bool:
        return bool(
            operation.method.lower() == "delete" and operation.path.startswith("/v1/sessions")
        )

    schema = schemathesis.openapi.from_dict(spec)
    person = signed_in()
    failures: list[str] = []
    # Signing out ends the token it is called with, or (everywhere) every token of the
    # person: those calls come last, each with a token of its own.
    for operation in sorted((r.ok() for r in schema.get_all_operations()), key=signs_out):
        if is_stream(operation.definition.raw):
            continue  # endless by design: tests/integration/booking/test_notices.py
        token = operator if operation.path.startswith("/v1/operator") else person
        headers = {"Authorization": f"Bearer {token}"}

        def call(
            case: Any, headers: dict[str, str] = headers, fresh: bool = signs_out(operation)
        ) -> None:
            if fresh:
                headers = {"Authorization": f"Bearer {signed_in()}"}
            response = case.call(base_url=base_url, headers=headers)
            case.validate_response(
                response, checks=[not_a_server_error, response_schema_conformance]
            )

        check = settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            report_multiple_bugs=False,
            suppress_health_check=list(HealthCheck),
        )(given(case=operation.as_strategy())(_bind(call)))
        try:
            check()
        except Exception as error:  # collect every operation's failure, then report them all
            causes = getattr(error, "exceptions", None) or [error]
            failures.append(f"{operation.method.upper()} {operation.path}: {causes[0]!r}"[:1500])
    return failures


def _bind(call: Any) -> Any:
    def check(case: Any) -> None:
        call(case)

    return check


async def test_no_server_errors_and_every_answer_matches_the_schema(booking: Booking) -> None:
    email = f"schema-{uuid.uuid4().hex[:10]}@example.org"
    await sign_up(booking.client, "Schema", email=email, password=PASSWORD)
    operator = booking.settings.operator_token
    assert operator is not None
    async with served(booking.runtime.app()) as base_url:
        spec = (await booking.client.get("/openapi.json")).json()
        failures = await asyncio.to_thread(_run, spec, base_url, email, operator.get_secret_value())
    assert not failures, "\n\n".join(failures)
