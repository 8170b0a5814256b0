"""The shared problem-details handlers keep what an HTTP error says in its headers."""

from __future__ import annotations

import httpx
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
