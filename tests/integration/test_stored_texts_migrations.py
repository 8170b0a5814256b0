"""Copies of texts kept from before they stopped travelling are forgotten: in booking's outbox
(which a replay publishes again), the partners gateway's webhook queue and trust's tables, on
real PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from importlib.resources import files

import asyncpg
import pytest

from shared.contracts import Envelope, decode, encode, key_for
from shared.contracts.trust import ConcernRaised, RaisedBy
from shared.postgres import apply_migrations, connect_pool, ensure_database
from tests.conftest import Stack

SUMMARY = "he shouted at me on the stairs"


@pytest.fixture
async def database(stack: Stack) -> AsyncIterator[asyncpg.Pool]:
    url = stack.database_url.rsplit("/", 1)[0] + f"/kith_texts_{uuid.uuid4().hex[:8]}"
    await ensure_database(url)
    pool = await connect_pool(url, min_size=1, max_size=2)
    yield pool
    await pool.close()


def _v1_concern() -> tuple[ConcernRaised, bytes]:
    """A concern, and its version 1 envelope as it was written then: with its summary."""
    concern = ConcernRaised(
        concern_id=uuid.uuid4(), about_id=uuid.uuid4(), raised_by_role=RaisedBy.PERSON
    )
    document = json.loads(encode(Envelope.wrap(concern, producer="booking")))
    document["version"] = 1
    document["data"]["summary"] = SUMMARY
    return concern, json.dumps(document).encode()


async def _run(pool: asyncpg.Pool, package: str, script: str) -> None:
    # The migration has run already (on an empty table): run its statement again on our rows.
    await pool.execute(files(package).joinpath(script).read_text())


async def test_booking_s_outbox_keeps_no_text_to_replay(database: asyncpg.Pool) -> None:
    await apply_migrations(database, "services.booking.migrations")
    concern, old = _v1_concern()
    await database.execute(
        "INSERT INTO outbox (event_id, topic, key, type, envelope) VALUES ($1, $2, $3, $4, $5)",
        uuid.uuid4(),
        "kith.concerns.v1",
        key_for(concern),
        concern.TYPE,
        old,
    )

    await _run(database, "services.booking.migrations", "017b_outbox_without_texts.sql")

    kept = await database.fetchval("SELECT envelope FROM outbox")
    assert SUMMARY.encode() not in kept
    replayed = decode(kept)
    assert replayed.version == 2
    assert replayed.data == concern


async def test_partners_webhook_queue_keeps_no_summary(database: asyncpg.Pool) -> None:
    await apply_migrations(database, "services.partners.migrations")
    partner_id = uuid.uuid4()
    await database.execute(
        "INSERT INTO partners (partner_id, name, key_hash, key_hint, webhook_secret, scopes)"
        " VALUES ($1, 'Council', $2, 'k', 's', '{}')",
        partner_id,
        uuid.uuid4().hex,
    )
    concern, old = _v1_concern()
    await database.execute(
        "INSERT INTO webhook_queue (partner_id, key, event_id, type, body)"
        " VALUES ($1, $2, $3, $4, $5)",
        partner_id,
        str(concern.about_id),
        uuid.uuid4(),
        concern.TYPE,
        old,
    )

    await _run(database, "services.partners.migrations", "006_webhooks_without_texts.sql")

    body = await database.fetchval("SELECT body FROM webhook_queue")
    assert SUMMARY.encode() not in body
    assert json.loads(body)["data"]["concern_id"] == str(concern.concern_id)


async def test_trust_forgets_the_texts_it_kept(database: asyncpg.Pool) -> None:
    await apply_migrations(database, "services.trust.migrations")
    one, two = uuid.uuid4(), uuid.uuid4()
    await database.execute(
        "INSERT INTO checkins (checkin_id, booking_id, pair_id, author_id, about_id, see_again,"
        " as_agreed, note, submitted_at) VALUES ($1, $2, 'p', $3, $4, 'yes', 'yes',"
        " 'a kind visit', now())",
        uuid.uuid4(),
        uuid.uuid4(),
        one,
        two,
    )
    await database.execute(
        "INSERT INTO concerns (concern_id, about_id, raised_by_role, summary, raised_at,"
        " outcome, reason) VALUES ($1, $2, 'person', $3, now(), 'reinstate', 'talked')",
        uuid.uuid4(),
        one,
        SUMMARY,
    )
    await database.execute(
        "INSERT INTO vetting_steps (event_id, person_id, step, outcome, reason, recorded_by,"
        " recorded_at) VALUES ($1, $2, 'references', 'failed', 'a referee withdrew', 'operator',"
        " now())",
        uuid.uuid4(),
        one,
    )

    await _run(database, "services.trust.migrations", "006_no_texts.sql")

    texts = await database.fetchrow(
        "SELECT (SELECT array_agg(note) FROM checkins) AS notes,"
        " (SELECT array_agg(summary) FROM concerns) AS summaries,"
        " (SELECT array_agg(reason) FROM concerns) AS resolutions,"
        " (SELECT array_agg(reason) FROM vetting_steps) AS vetting,"
        " (SELECT array_agg(outcome) FROM vetting_steps) AS outcomes"
    )
    assert texts is not None
    assert dict(texts) == {
        "notes": [None],
        "summaries": [None],
        "resolutions": [None],
        "vetting": [None],
        "outcomes": ["failed"],
    }
