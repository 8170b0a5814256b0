"""The one way to read a topic to its end (``shared.messaging.reader.read_to_end``)."""

from __future__ import annotations

import uuid

from shared.contracts.topics import KeyBy, Topic
from shared.messaging import Publisher, ensure_topics
from shared.messaging.reader import read_to_end
from tests.conftest import Stack


async def test_read_to_end_returns_everything_now_on_the_topic_in_order(stack: Stack) -> None:
    # A topic of its own: nothing else reads it, and nothing else is on it.
    topic = Topic(f"kith.test-read-to-end-{uuid.uuid4().hex[:8]}.v1", 3, KeyBy.PERSON)
    await ensure_topics(stack.settings(), (topic,))
    publisher = Publisher(stack.settings(), client_id="test-read-to-end")
    await publisher.start()
    key = uuid.uuid4().hex.encode()  # one key: one partition, so one order
    sent = [f"{uuid.uuid4()}".encode() for _ in range(20)]
    try:
        for value in sent:
            await publisher.publish_raw(
                topic.name, value=value, key=key, headers=[("kith-test", b"1")]
            )
    finally:
        await publisher.stop()
    records = await read_to_end(stack.bootstrap, [topic.name, "kith.no-such-topic.v1"])
    assert [record.value for record in records] == sent
    assert all(record.key == key for record in records)
    assert all(("kith-test", b"1") in record.headers for record in records)
