"""The shared problem-details handlers keep what an HTTP error says in its headers."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from shared.problems import MEDIA_TYPE, install_problem_handlers


async def test_a_405_names_the_allowed_methods_in_allow() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/thing")
    async def thing() -> dict[str, str]:
        return {}

    @app.patch("/thing")
    async def change() -> dict[str, str]:
        return {}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.request("TRACE", "/thing")
    assert answer.status_code == 405
    assert answer.headers["content-type"] == MEDIA_TYPE
    assert set(answer.headers["allow"].split(", ")) == {"GET", "PATCH"}


@pytest.mark.parametrize(
    "away",
    [
        ConnectionRefusedError(111, "Connection refused"),
        asyncpg.CannotConnectNowError("the database system is not yet accepting connections"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.InterfaceError("cannot call Transaction.__aexit__(): the connection is closed"),
        asyncpg.InternalClientError("cannot switch to state 15; another operation is in progress"),
    ],
)
async def test_a_database_that_is_away_is_a_503_to_retry_not_a_bare_500(away: Exception) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/thing")
    async def thing() -> dict[str, str]:
        raise away

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.post("/thing")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == MEDIA_TYPE
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["title"] == "Service unavailable"
