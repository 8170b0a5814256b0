"""Operators register someone who phoned in (assisted sign-up), with their consent."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Self

from fastapi import APIRouter, Request, Response
from pydantic import AwareDatetime, ConfigDict, Field, model_validator

from services.booking.domain.errors import Invalid
from services.booking.domain.rejoining import contact_key
from services.booking.entrypoints.http.audit import recorded
from services.booking.entrypoints.http.dependencies import Acts, Ctx
from services.booking.entrypoints.http.idempotency import OPERATORS, IdempotencyKey, idempotent
from services.booking.entrypoints.http.schemas import (
    EMAIL_PATTERN,
    Body,
    Language,
    Phone,
    TimeZone,
    email_or_phone,
)
from services.booking.service_layer import assisted
from services.booking.service_layer.commands import SignUp
from shared import geo
from shared.contracts import utc_now
from shared.contracts.partners import ConsentMethod
from shared.contracts.skills import Skill

router = APIRouter(prefix="/v1/operator", tags=["operators"])

NeighbourhoodCell = Annotated[
    str,
    Field(
        pattern=r"^[0-9a-f]{15}$",
        max_length=15,
        description="A neighbourhood's H3 cell (resolution 7), as GET /v1/operator/neighbourhoods"
        " names them.",
    ),
]


class AssistedHome(Body):
    """Where the person lives: the address they gave, and where it is, either as a point or
    as the neighbourhood (its centre stands for the home until they give a point)."""

    address: str = Field(min_length=1, max_length=300)
    lat: float | None = Field(strict=True, default=None, ge=-90, le=90)
    lng: float | None = Field(strict=True, default=None, ge=-180, le=180)
    neighbourhood: NeighbourhoodCell | None = None

    @model_validator(mode="after")
    def _placed(self) -> Self:
        if (self.lat is None) != (self.lng is None):
            raise ValueError("give lat and lng together")
        if self.lat is None and self.neighbourhood is None:
            raise ValueError("give the neighbourhood, or lat and lng")
        return self


class ConsentBody(Body):
    """How and when the person agreed to be registered (the operator is who records it)."""

    method: ConsentMethod = Field(description="verbal: said so on the phone, say.")
    given_at: AwareDatetime | None = Field(
        default=None, description="When they agreed; now when left out."
    )


class AssistedSignUpBody(Body):
    """Register someone who phoned in: their name, an email or a mobile phone number (or
    both), their home, what they need and offer, their consent, and why (for the trail)."""

    model_config = ConfigDict(json_schema_extra=email_or_phone)

    display_name: str = Field(min_length=1, max_length=80)
    email: str | None = Field(default=None, pattern=EMAIL_PATTERN, max_length=254)
    phone: Phone | None = None
    home: AssistedHome
    time_zone: TimeZone = "Europe/London"
    languages: list[Language] = Field(default_factory=list, max_length=10)
    needs: list[Skill] = Field(
        default_factory=list, max_length=len(Skill), description="What they would like help with."
    )
    offers: list[Skill] = Field(
        default_factory=list, max_length=len(Skill), description="What they could help with."
    )
    consent: ConsentBody
    reason: str = Field(
        min_length=1,
        max_length=500,
        description="Why, without personal details (kept on the audit trail).",
    )


@router.post("/people", status_code=201, response_model=None)
async def register_someone(
    body: AssistedSignUpBody,
    ctx: Ctx,
    who: Acts,
    request: Request,
    key: IdempotencyKey = None,
) -> Response:
    """Register someone who phoned in (any operator role): a member like anyone who signed up,
    with no password. Their consent (how, when, and this operator) is kept with them; they
    are sent a welcome with a link to choose a password if they want one (by email, or by
    text message when they gave a phone only; valid ``KITH_WELCOME_LINK_TTL_S``). The email
    and phone are each unique to one account (a 409 when taken). The audit entry names the
    operator and the reason, and what was given, never the values."""
    if body.email is None and body.phone is None:
        raise Invalid("phone", "give their mobile phone number or their email (or both)")
    home = body.home
    if home.lat is not None and home.lng is not None:
        lat, lng = home.lat, home.lng
    else:
        assert home.neighbourhood is not None
        if not geo.is_neighbourhood(home.neighbourhood):
            raise Invalid("home.neighbourhood", "not a neighbourhood cell (H3, resolution 7)")
        lat, lng = geo.centre_of(home.neighbourhood)
    now = utc_now()
    person_id = uuid.uuid4()
    details = SignUp(
        display_name=body.display_name,
        email=body.email,
        password_hash=None,
        lat=lat,
        lng=lng,
        address=home.address,
        phone=None,
        sign_in_phone=body.phone,
        time_zone=body.time_zone,
        skills=body.offers,
        languages=body.languages,
    )
    # What was given, never the values: the trail is read by every administrator.
    given = sorted(name for name in ("email", "phone") if getattr(body, name) is not None)

    async def register() -> dict[str, Any]:
        async with recorded(
            ctx,
            who,
            "person.assisted_sign_up",
            subject_kind="person",
            subject_id=person_id,
            reason=body.reason,
            details={"contact": given, "consent_method": body.consent.method.value},
        ):
            await assisted.register(
                ctx.uow,
                assisted.RegisterSomeone(
                    person_id=person_id,
                    details=details,
                    consent_method=body.consent.method,
                    consent_given_at=body.consent.given_at or now,
                    needs=body.needs,
                ),
                who,
                contact_key(ctx.idempotency_secret),
                now,
                ctx.settings.welcome_link_ttl_s,
            )
        return {
            "person_id": person_id,
            "welcome": "text message" if body.email is None else "email",
            "consent": {
                "method": body.consent.method,
                "given_at": body.consent.given_at or now,
                "recorded_by": who.name,
            },
        }

    return await idempotent(ctx, request, OPERATORS, key, body, 201, register)
