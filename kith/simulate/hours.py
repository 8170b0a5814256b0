"""How the simulated neighbourhood's hours are paid for, and the ledger's figures per week.

The first neighbourhood cell is a paid community (an hourly rate for every skill, time
credits beside it, half a visit posted when the neighbour cancels late); the second runs
gifted hours (a monthly allowance of two hours a person from its pot) beside time credits.
A local shop gives three hours into the pot every Monday. Each week's figures are read back
from the ledger's API: hours given and received as time credits, gifted into the pot and
drawn from it, paid for, and whether every unit's entries summed to zero at the week's end.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from kith.seeding import Api, sign_up
from kith.simulate.world import WorldPlan
from shared.contracts.skills import Skill

#: The price of an hour in the paid community, in pence.
RATE = 1500
#: Hours the shop gives into the pot each week.
WEEKLY_GIFT = 3
_PASSWORD = "simulated-shop-password"


class Hours:
    """The simulation's side of the ledger: communities, the weekly gift, the figures."""

    def __init__(
        self, ledger: str, operator_token: str, api: Api, world: WorldPlan, run: str
    ) -> None:
        self._http = httpx.AsyncClient(base_url=ledger, timeout=30)
        self._operator = {"Authorization": f"Bearer {operator_token}"}
        self._api = api
        self._world = world
        self._run = run
        self._shop_email = ""

    async def close(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def set_up(self) -> None:
        """The two communities, and the shop that gives hours."""
        cells = self._world.neighbourhoods
        communities: list[tuple[str, dict[str, Any]]] = [
            (
                f"paid-{self._run}",
                {
                    "modes": ["paid", "time_credits"],
                    "rates": {str(skill): RATE for skill in Skill},
                    "late_cancel_percent": 50,
                },
            ),
            (
                f"gifted-{self._run}",
                {
                    "modes": ["gifted", "time_credits"],
                    "pot_rule": "allowance",
                    "monthly_allowance_hours": 2,
                },
            ),
        ]
        for (name, body), cell in zip(communities, cells, strict=False):
            response = await self._http.put(
                f"/v1/operator/ledger/communities/{name}",
                headers=self._operator,
                json={**body, "cells": [cell]},
            )
            response.raise_for_status()
        home = self._world.neighbours[0].home
        _, self._shop_email = await sign_up(
            self._api, home, skills=[], label=f"corner-shop-{self._run}", password=_PASSWORD
        )

    async def give(self) -> None:
        """The shop gives this week's hours into the pot (signing in again: weeks pass)."""
        session = await self._api.call(
            "POST", "/v1/sessions", json={"email": self._shop_email, "password": _PASSWORD}
        )
        response = await self._http.post(
            "/v1/me/ledger/gifts",
            headers={"Authorization": f"Bearer {session['token']}"},
            json={"community_id": f"gifted-{self._run}", "hours": WEEKLY_GIFT},
        )
        response.raise_for_status()

    async def report(self) -> dict[str, Any]:
        """Per week: hours given, received, gifted, drawn from the pot and paid, money
        charged, and whether the ledger balanced at the week's end."""
        weeks = []
        for week in range(self._world.weeks):
            since = self._world.day_zero + timedelta(weeks=week)
            response = await self._http.get(
                "/v1/operator/ledger/totals",
                headers=self._operator,
                params={
                    "since": since.isoformat(),
                    "until": (since + timedelta(weeks=1)).isoformat(),
                },
            )
            response.raise_for_status()
            totals = response.json()
            weeks.append(
                {
                    "week": week + 1,
                    "hours_given": totals["hours_given"],
                    "hours_received": totals["hours_received"],
                    "hours_gifted": totals["hours_gifted"],
                    "hours_from_pot": totals["hours_from_pots"],
                    "hours_paid": totals["hours_paid"],
                    "money_paid": totals["money_paid"],
                    "visits_posted": totals["visits_posted"],
                    "balanced": totals["balanced"],
                }
            )
        return {"weeks": weeks, "balanced_every_week": all(w["balanced"] for w in weeks)}
