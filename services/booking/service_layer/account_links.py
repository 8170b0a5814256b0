"""Email verification, password reset and welcome links, with single-use tokens.

Links go by email; to a person with a phone and no email, a reset or welcome link goes by
text message (notify decides the channel from the person's contact details).

A link is recorded with no token. Notify, when it sends the email, asks booking for the
token (``hand_out``): a fresh one is minted then, only its digest is kept, and the plaintext
goes into the email and nowhere else (not on a topic, not in notify's delivery log). Asked
again for the same open link (a send retried), booking mints another and forgets the first:
each token is handed out once, and only the latest works. Minting at hand-out time means
booking never holds a token it would have to encrypt or expire separately.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from services.booking.domain.credentials import new_token, token_digest
from services.booking.domain.errors import Conflict, Invalid, NotFound
from services.booking.service_layer.ports import Repository, Sessions, UnitOfWork
from services.booking.service_layer.records import LinkRow
from shared.contracts import Envelope
from shared.contracts.people import AccountLinkRequested, LinkPurpose

PRODUCER = "booking"

#: Why a token is refused, said the same for one never issued and one replaced: a caller
#: learns nothing about other people's links.
UNKNOWN = "this link is not known or was replaced by a newer one: ask for a new link"


async def add_link(
    repo: Repository,
    person_id: uuid.UUID,
    email: str | None,
    purpose: LinkPurpose,
    now: datetime,
    ttl_s: int,
) -> uuid.UUID:
    """Record a link (no token yet) and publish its ids, in the caller's transaction.

    ``email`` is the address a verification is for (``None`` for a link sent by text)."""
    link_id = uuid.uuid4()
    expires_at = now + timedelta(seconds=ttl_s)
    await repo.add_link(link_id, person_id, purpose.value, email, expires_at)
    event = AccountLinkRequested(
        link_id=link_id, person_id=person_id, purpose=purpose, expires_at=expires_at
    )
    await repo.publish([Envelope.wrap(event, producer=PRODUCER)])
    return link_id


async def request_link(
    uow: UnitOfWork,
    person_id: uuid.UUID,
    purpose: LinkPurpose,
    now: datetime,
    ttl_s: int,
) -> uuid.UUID | None:
    """Record a link for the person's current email and publish its ids; ``None`` when the
    person cannot be sent one (no email to verify; neither email nor phone for a reset, as
    for a person referred by a partner) or is gone."""
    async with uow.begin() as repo:
        person = await repo.person(person_id)
        if person is None or person.get("kind") == "erased":
            return None
        reachable = person.get("email") or (
            purpose is not LinkPurpose.VERIFY_EMAIL
            and (person.get("sign_in_phone") or person.get("phone"))
        )
        if not reachable:
            return None
        return await add_link(repo, person_id, person.get("email"), purpose, now, ttl_s)


async def ask_verification(
    uow: UnitOfWork, person_id: uuid.UUID, now: datetime, ttl_s: int
) -> uuid.UUID:
    """Send a new verification link to the person's email (a 409 once it is verified)."""
    async with uow.read() as repo:
        person = await repo.person(person_id)
    if person is None:
        raise NotFound("no such person")
    if person.get("email_verified_at") is not None:
        raise Conflict("your email is verified already")
    link_id = await request_link(uow, person_id, LinkPurpose.VERIFY_EMAIL, now, ttl_s)
    if link_id is None:
        raise Conflict("this account has no email to verify")
    return link_id


async def request_password_reset(
    uow: UnitOfWork, email: str | None, now: datetime, ttl_s: int, phone: str | None = None
) -> None:
    """Send a reset link to the account of ``email`` (or, without one, of the sign-in
    ``phone``) if there is one; the same answer either way. It goes by email, or by text to
    an account with a phone only. Someone an operator registered, who never chose a
    password, may choose one this way too."""
    async with uow.read() as repo:
        if email is not None:
            person = await repo.person_by_email(email)
        else:
            person = await repo.person_by_phone(phone) if phone else None
    if person is None or person.get("kind") != "member":
        return
    await request_link(uow, person["person_id"], LinkPurpose.RESET_PASSWORD, now, ttl_s)


async def hand_out(uow: UnitOfWork, link_id: uuid.UUID, now: datetime) -> tuple[str, LinkPurpose]:
    """Mint the token of an open link, keep its digest, and give it (to notify) once.

    Raises:
        NotFound: no such link (or its person was erased).
        Conflict: the link was used or has expired: there is nothing to send.
    """
    token = new_token()
    async with uow.begin() as repo:
        link = await repo.link_for_update(link_id)
        if link is None:
            raise NotFound(f"no link {link_id}")
        if link.used or link.expires_at <= now:
            raise Conflict("this link was used or has expired")
        await repo.set_link_token(link_id, token_digest(token), now)
    return token, LinkPurpose(link.purpose)


def _check(link: LinkRow | None, purpose: LinkPurpose, now: datetime) -> None:
    """Why a token is refused, as a problem naming the ``token`` field."""
    if link is None or link.purpose != purpose.value:
        raise Invalid("token", UNKNOWN)
    if link.used:
        raise Invalid("token", "this link was used already: ask for a new link")
    if link.expires_at <= now:
        raise Invalid("token", "this link has expired: ask for a new link")


async def reset_password(
    uow: UnitOfWork,
    token: str,
    password_hash: str,
    sessions: Sessions,
    now: datetime,
) -> uuid.UUID:
    """Set a new password with a reset token (or a welcome link's: the first password of
    someone an operator registered), once; every session of the person ends (whoever knew
    the old password is signed out). The link and its siblings are used up in the same
    transaction as the change, under the link's row lock, so two tries with one token cannot
    both succeed."""
    async with uow.begin() as repo:
        link = await repo.link_by_token(token_digest(token))
        purpose = (
            LinkPurpose.WELCOME
            if link is not None and link.purpose == LinkPurpose.WELCOME.value
            else LinkPurpose.RESET_PASSWORD
        )
        _check(link, purpose, now)
        assert link is not None
        await repo.set_password_hash(link.person_id, password_hash)
        for used in (LinkPurpose.RESET_PASSWORD, LinkPurpose.WELCOME):
            await repo.use_links(link.person_id, used.value, now)
        await repo.end_sessions_of(link.person_id)
    sessions.forget_person(link.person_id)
    return link.person_id


async def verify_email(uow: UnitOfWork, token: str, now: datetime) -> uuid.UUID:
    """Mark the email a verification link was sent to as verified, once."""
    async with uow.begin() as repo:
        link = await repo.link_by_token(token_digest(token))
        _check(link, LinkPurpose.VERIFY_EMAIL, now)
        assert link is not None
        if link.email is None or not await repo.mark_email_verified(
            link.person_id, link.email, now
        ):
            raise Invalid("token", "this link was sent to an older email address")
        await repo.use_links(link.person_id, LinkPurpose.VERIFY_EMAIL.value, now)
    return link.person_id
