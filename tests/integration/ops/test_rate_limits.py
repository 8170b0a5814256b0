"""The operators' sign-in is rate-limited per client address and for the operators' account,
with the counters in the console's PostgreSQL: past the limit, a 429 problem with Retry-After."""

from __future__ import annotations

import secrets

import httpx

from tests.conftest import Stack
from tests.integration.ops.support import running_console


async def _login(client: httpx.AsyncClient, token: str, address: str) -> httpx.Response:
    # The console trusts X-Forwarded-For from its loopback proxy only (uvicorn's default).
    return await client.post(
        "/ops/login", data={"token": token}, headers={"X-Forwarded-For": address}
    )


async def test_operator_sign_in_is_limited_per_address_and_per_account(stack: Stack) -> None:
    settings = stack.settings(
        operator_token=secrets.token_urlsafe(32),
        rate_ops_sign_in_per_address="3/600",
        rate_ops_sign_in_per_account="5/600",
    )
    async with (
        running_console(settings, own_database=True) as console,
        httpx.AsyncClient(base_url=console.url) as client,
    ):
        codes = [(await _login(client, "a guess", "10.30.0.1")).status_code for _ in range(3)]
        assert codes == [401, 401, 401]
        refused = await _login(client, console.token, "10.30.0.1")
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        # From elsewhere the right token still works, until the account's limit.
        assert (await _login(client, console.token, "10.30.0.2")).status_code == 303
        assert (await _login(client, "a guess", "10.30.0.3")).status_code == 401
        limited = await _login(client, console.token, "10.30.0.4")
        assert limited.status_code == 429
