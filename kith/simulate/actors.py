"""Simulated people acting through booking's API as real ones would: signing up, keeping
their hours, asking for help, reading their offers, checking in and out, answering the
private questions, cancelling, raising a concern.

An actor signs in again when Kith says its token has expired (tokens last 30 days of the
moved clock, and a run lasts longer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kith.seeding import Api, ApiRefused, Person, set_hours, sign_up, vet
from kith.simulate.world import TIME_ZONE, HelperPlan, NeighbourPlan, Rule

_PASSWORD = "simulated-password"
_DOMAIN = "simulate.kith.example"


@dataclass
class Actor:
    """One simulated account."""

    label: str
    person: Person
    email: str
    api: Api
    token: str = ""
    suspended: bool = False
    gone: bool = False

    def __post_init__(self) -> None:
        self.token = self.token or self.person.token

    @property
    def person_id(self) -> str:
        """The account's id."""
        return self.person.person_id

    async def call(
        self, method: str, path: str, *, json: dict[str, Any] | None = None, key: str | None = None
    ) -> dict[str, Any]:
        """Call as this person, signing in again once if the token has expired."""
        try:
            return await self.api.call(method, path, token=self.token, json=json, key=key)
        except ApiRefused as refused:
            if refused.status != 401:
                raise
        signed_in = await self.api.call(
            "POST", "/v1/sessions", json={"email": self.email, "password": _PASSWORD}
        )
        self.token = str(signed_in["token"])
        return await self.api.call(method, path, token=self.token, json=json, key=key)


@dataclass
class Helper(Actor):
    """A helper, with the plan they follow, and the series they took on as its regular."""

    plan: HelperPlan | None = None
    regular_of: set[str] = field(default_factory=set)


@dataclass
class Neighbour(Actor):
    """A neighbour, with the plan they follow."""

    plan: NeighbourPlan | None = None
    series: list[str] = field(default_factory=list)


async def sign_up_helper(api: Api, operator_token: str, plan: HelperPlan, run: str) -> Helper:
    """Sign a helper up, give them their weekly hours, and have an operator vet them."""
    person, email = await sign_up(
        api,
        plan.home,
        skills=plan.skills,
        label=f"{plan.label}-{run}",
        radius_km=plan.radius_km,
        weekly_hour_cap=plan.weekly_hour_cap,
        time_zone=TIME_ZONE,
        password=_PASSWORD,
        domain=_DOMAIN,
    )
    helper = Helper(plan.label, person, email, api, plan=plan)
    await set_hours(api, person.token, [rule.as_json() for rule in plan.hours])
    await vet(api, operator_token, person)
    return helper


async def sign_up_neighbour(api: Api, plan: NeighbourPlan, run: str) -> Neighbour:
    """Sign a neighbour up (they offer no skills)."""
    person, email = await sign_up(
        api,
        plan.home,
        skills=[],
        label=f"{plan.label}-{run}",
        time_zone=TIME_ZONE,
        password=_PASSWORD,
        domain=_DOMAIN,
    )
    return Neighbour(plan.label, person, email, api, plan=plan)


async def change_hours(helper: Helper, rules: tuple[Rule, ...]) -> None:
    """Save a new set of weekly hours (an empty set: no longer offering any)."""
    await helper.call(
        "PUT", "/v1/me/availability", json={"rules": [rule.as_json() for rule in rules]}
    )


async def ask(
    neighbour: Neighbour, skill: str, starts_at: datetime, hours: int, occurrences: int, key: str
) -> dict[str, Any]:
    """Ask for help once, or weekly for ``occurrences`` weeks; Kith's answer."""
    body: dict[str, Any] = {"skill": skill, "starts_at": starts_at.isoformat(), "hours": hours}
    if occurrences > 1:
        body["repeat"] = {"every": "week", "occurrences": occurrences}
    return await neighbour.call("POST", "/v1/requests", json=body, key=key)


async def open_offers(helper: Helper) -> list[dict[str, Any]]:
    """The helper's open offers (open ones come first in the inbox)."""
    inbox = await helper.call("GET", "/v1/offers?limit=50")
    return [offer for offer in inbox["items"] if offer["status"] == "open"]


@dataclass(frozen=True)
class Features:
    """What this Kith's API offers, read from its OpenAPI document."""

    series_accept_body: dict[str, Any] | None = None
    request_statuses: tuple[str, ...] = ("open", "booked", "unmatched", "cancelled")
    step_back: bool = False

    @property
    def accepts_series(self) -> bool:
        """Whether a helper can take on a whole series with one answer."""
        return self.series_accept_body is not None

    @property
    def operator_statuses(self) -> tuple[str, ...]:
        """The request statuses that mean operators have been told."""
        return tuple(s for s in self.request_statuses if s in {"unmatched", "escalated"})

    def as_json(self) -> dict[str, Any]:
        """What was found, for the report."""
        return {
            "series_accept": self.series_accept_body,
            "operator_statuses": list(self.operator_statuses),
            "series_step_back": self.step_back,
        }


async def detect_features(api: Api) -> Features:
    """Look for accepting a whole series, and the statuses operators list requests by.

    A whole series is taken on by a field of the accept's body: one whose values include
    ``series`` (``{"scope": "series"}``), or a flag named for it.
    """
    document = await api.call("GET", "/openapi.json")
    accept_op = document.get("paths", {}).get("/v1/offers/{offer_id}/accept", {}).get("post", {})
    schema = _body_schema(document, accept_op) or {}
    series_body: dict[str, Any] | None = None
    for name, prop in schema.get("properties", {}).items():
        if "series" in _enum(document, prop):
            series_body = {name: "series"}
        elif "series" in name and prop.get("type") == "boolean":
            series_body = {name: True}
    statuses = _request_statuses(document)
    step_back = "/v1/series/{series_id}/step-back" in document.get("paths", {})
    return Features(series_body, statuses or Features.request_statuses, step_back)


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not ref:
        return schema
    found: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return found


def _enum(document: dict[str, Any], prop: dict[str, Any]) -> list[Any]:
    values: list[Any] = []
    for option in [prop, *prop.get("anyOf", []), *prop.get("allOf", [])]:
        resolved = _resolve(document, option)
        values += resolved.get("enum", [])
        if "const" in resolved:
            values.append(resolved["const"])
    return values


def _body_schema(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    content = (operation.get("requestBody") or {}).get("content", {})
    schema = (content.get("application/json") or {}).get("schema") or {}
    for option in [schema, *schema.get("anyOf", [])]:
        resolved = _resolve(document, option)
        if "properties" in resolved:
            return resolved
    return None


def _request_statuses(document: dict[str, Any]) -> tuple[str, ...]:
    schemas = document.get("components", {}).get("schemas", {})
    found = schemas.get("RequestStatus", {}).get("enum")
    return tuple(str(s) for s in found) if found else ()


async def accept(
    helper: Helper, offer: dict[str, Any], features: Features, *, in_series: bool
) -> dict[str, Any]:
    """Accept an offer: its whole series where the API allows it and it is part of one."""
    offer_id = offer["offer_id"]
    body = features.series_accept_body if in_series else None
    key = f"accept-{offer_id}" + ("-series" if body else "")
    return await helper.call("POST", f"/v1/offers/{offer_id}/accept", json=body, key=key)
