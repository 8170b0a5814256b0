"""Assisted sign-up: an operator registers someone who phoned in, with their consent.

The person becomes a member like any other (their profile published, cells only), with no
password: an operator can act for them, and they are sent a welcome with a link to choose
a password if they want to use Kith themselves (by text message when they gave a phone and
no email). Who registered them, and how and when they consented, is kept with them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from services.booking.domain.operators import Acting
from services.booking.service_layer.account_links import add_link
from services.booking.service_layer.accounts import add_member, new_person
from services.booking.service_layer.commands import SignUp
from services.booking.service_layer.ports import UnitOfWork
from services.booking.service_layer.records import AssistedSignUp
from shared.contracts.partners import ConsentMethod
from shared.contracts.people import LinkPurpose
from shared.contracts.skills import Skill


@dataclass(frozen=True, slots=True)
class RegisterSomeone:
    """Register a person on their behalf (they phoned in, say).

    Attributes:
        person_id: The new person's id, chosen by the caller (the audit entry names it).
        details: The account, as a sign-up would make it, with no password.
        consent_method: How the person consented (verbally on the phone, say).
        consent_given_at: When they consented.
        needs: What they would like help with (their profile's skills are what they offer).
    """

    person_id: uuid.UUID
    details: SignUp
    consent_method: ConsentMethod
    consent_given_at: datetime
    needs: list[Skill] = field(default_factory=list)


async def register(
    uow: UnitOfWork,
    command: RegisterSomeone,
    by: Acting,
    contact_key: bytes,
    now: datetime,
    welcome_ttl_s: int,
) -> uuid.UUID:
    """Create the member, keep the consent with them, and send them a welcome link, in one
    transaction (a refusal keeps nothing).

    Raises:
        Conflict: the email or phone belongs to another account.
    """
    person = {**new_person(command.details), "person_id": command.person_id}
    async with uow.begin() as repo:
        await add_member(repo, person, contact_key, now)
        await repo.add_assisted_sign_up(
            AssistedSignUp(
                person_id=command.person_id,
                operator_id=by.operator_id,
                operator=by.name,
                consent_method=command.consent_method.value,
                consent_given_at=command.consent_given_at,
                needs=[str(skill) for skill in command.needs],
                registered_at=now,
            )
        )
        # By email where there is one, else by text (notify decides from the contact).
        await add_link(
            repo, command.person_id, command.details.email, LinkPurpose.WELCOME, now, welcome_ttl_s
        )
    return command.person_id
