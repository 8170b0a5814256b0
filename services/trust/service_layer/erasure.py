"""A person's account was deleted: trust ends their pairs and forgets them.

What safeguarding keeps: every concern raised by or about them (who, when, about which visit,
how it was resolved) without its texts. What the other side keeps: each pair's record
(ended, with its visits and hours), without the erased person's answers. Everything else
trust held of them goes, and a tombstone on the compacted standing stream tells every reader
to forget their standing. An event about them that arrives later (another stream, read in
another order) records nothing of theirs and publishes nothing about them.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace

from services.trust.domain import relationship as rel
from services.trust.domain.relationship import Relationship
from services.trust.service_layer.ports import TrustUnitOfWork
from shared.contracts import Envelope, Payload
from shared.contracts.people import PersonErased
from shared.contracts.topics import STANDING
from shared.contracts.trust import CheckInSubmitted

#: Saves a pair's new record and publishes it (``handlers._store``).
Store = Callable[[TrustUnitOfWork, Envelope[Payload], Relationship, Relationship], Awaitable[None]]

#: Payload fields that name a person.
_PERSON_FIELDS = ("person_id", "helper_id", "neighbour_id", "author_id", "raised_by_id")


async def person_erased(
    uow: TrustUnitOfWork, envelope: Envelope[Payload], data: PersonErased, store: Store
) -> None:
    """End the person's pairs (published, unmatchable, without their answers), erase what
    trust holds of them, and tombstone their standing."""
    person_id = data.person_id
    if await uow.erased_among({person_id}):
        return  # erased before (the same erasure again under another event id)
    for before in await uow.relationships_of(person_id):
        await store(uow, envelope, before, rel.end(without_answer(before, person_id)))
    await uow.erase_person(person_id, envelope.occurred_at)
    uow.tombstone(STANDING.name, str(person_id).encode())


async def ignored(uow: TrustUnitOfWork, data: Payload) -> bool:
    """Whether the event is an erased person's own word, which trust no longer takes (a
    check-in they wrote before their account was deleted, read after it)."""
    return isinstance(data, CheckInSubmitted) and bool(await uow.erased_among({data.author_id}))


async def scrub_named(uow: TrustUnitOfWork, data: Payload) -> set[uuid.UUID]:
    """Scrub again every erased person the event names (what it recorded of them goes);
    return who they are."""
    named = {
        value
        for name in _PERSON_FIELDS
        if isinstance(value := getattr(data, name, None), uuid.UUID)
    }
    erased = await uow.erased_among(named) if named else set()
    for person_id in erased:
        await uow.scrub(person_id)
    return erased


def without_answer(relationship: Relationship, person_id: uuid.UUID) -> Relationship:
    """The pair's record without the erased person's "see you again?" answer."""
    if relationship.helper_id == person_id:
        return replace(relationship, helper_see_again=None)
    if relationship.neighbour_id == person_id:
        return replace(relationship, neighbour_see_again=None)
    return relationship
