"""The published form of Kith's contracts: a JSON Schema per event type and version, and one
AsyncAPI document of every topic, for partners who build against Kith without its code.

Each schema describes a whole message value: the envelope with that event's payload in
``data``. The files are generated from the pydantic models, so they cannot drift from what the
services accept; a released schema never changes (a change is a new version).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.contracts.envelope import Envelope, Payload
from shared.contracts.registry import EVENTS_BY_TOPIC, PARTNER_SENDABLE
from shared.contracts.topics import ALL_TOPICS, PARTNERS_INBOX, Topic, partner_feed

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ASYNCAPI_VERSION = "3.0.0"
SCHEMAS_DIR = "schemas"
ASYNCAPI_FILE = "asyncapi.json"


def message_name(payload: type[Payload]) -> str:
    """``offer.made.v1``: an event type and version, as files and messages are named."""
    return f"{payload.TYPE}.v{payload.VERSION}"


def event_schema(payload: type[Payload]) -> dict[str, Any]:
    """The JSON Schema of one message value: the envelope holding this payload."""
    schema = Envelope[payload].model_json_schema()  # type: ignore[valid-type]
    # The envelope's type and version are free fields in Python; in the published schema each
    # names exactly one event, so a validator can tell events apart.
    schema["properties"]["type"] = {"const": payload.TYPE, "title": "Type"}
    schema["properties"]["version"] = {"const": payload.VERSION, "title": "Version"}
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"{message_name(payload)}.json",
        **schema,
        "title": message_name(payload),
        "description": " ".join((payload.__doc__ or "").split()),
    }


def _channel(topic: Topic, payloads: tuple[type[Payload], ...]) -> dict[str, Any]:
    return {
        "address": topic.name,
        "description": topic.description,
        "messages": {
            message_name(cls): {"$ref": f"#/components/messages/{message_name(cls)}"}
            for cls in payloads
        },
        "x-kith-partitions": topic.partitions,
        "x-kith-key": topic.key_by.value,
        "x-kith-compacted": topic.compacted,
        "x-kith-private": topic.private,
    }


def asyncapi_document() -> dict[str, Any]:
    """One AsyncAPI 3 document: every topic, what travels on it, and who may read it."""
    every = tuple(cls for classes in EVENTS_BY_TOPIC.values() for cls in classes)
    channels: dict[str, Any] = {
        topic.name: _channel(topic, EVENTS_BY_TOPIC.get(topic, ())) for topic in ALL_TOPICS
    }
    channels[PARTNERS_INBOX.name] = _channel(PARTNERS_INBOX, PARTNER_SENDABLE)
    feed = partner_feed("{partnerId}")
    channels[feed] = {
        "address": feed,
        "description": (
            "One partner's feed: the public events its scopes allow, with only the fields "
            "they allow. Written by the partners gateway."
        ),
        "parameters": {"partnerId": {"description": "The partner's id, from registration."}},
        "messages": {
            message_name(cls): {"$ref": f"#/components/messages/{message_name(cls)}"}
            for topic, classes in EVENTS_BY_TOPIC.items()
            if not topic.private
            for cls in classes
        },
    }
    operations: dict[str, Any] = {
        f"send-{PARTNERS_INBOX.name}": {
            "action": "send",
            "channel": {"$ref": f"#/channels/{_pointer(PARTNERS_INBOX.name)}"},
            "summary": "What a partner sends, keyed by its partner id, signed in the header"
            " kith-partner-signature (see shared/contracts/inbox_signature.py).",
        },
        "receive-partner-feed": {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{_pointer(feed)}"},
            "summary": "What a partner reads.",
        },
    }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Kith event streams",
            "version": "1",
            "description": (
                "Every Kith topic and the events on it. Message values are JSON envelopes; "
                "each event type and version has its own JSON Schema in schemas/. Private "
                "topics are never readable by partners."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": {
                message_name(cls): {
                    "name": cls.TYPE,
                    "title": message_name(cls),
                    "summary": " ".join((cls.__doc__ or "").split()),
                    "contentType": "application/json",
                    "payload": {"$ref": f"{SCHEMAS_DIR}/{message_name(cls)}.json"},
                }
                for cls in every
            }
        },
    }


def _pointer(name: str) -> str:
    # JSON Pointer escapes "~" and "/"; topic names hold neither, but a template might.
    return name.replace("~", "~0").replace("/", "~1")


def render(document: dict[str, Any]) -> str:
    """Stable text for a document: sorted keys, two-space indent, a final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def exported_files() -> dict[str, str]:
    """Every file ``kith contracts export`` writes, by path relative to its folder."""
    files = {
        f"{SCHEMAS_DIR}/{message_name(cls)}.json": render(event_schema(cls))
        for classes in EVENTS_BY_TOPIC.values()
        for cls in classes
    }
    files[ASYNCAPI_FILE] = render(asyncapi_document())
    return files


def export(directory: Path) -> list[Path]:
    """Write every schema and the AsyncAPI document under ``directory``; return the paths.

    Schemas of versions no longer produced stay where they are: released files are never
    removed, so that partners on an old version keep their contract.
    """
    written: list[Path] = []
    for relative, text in exported_files().items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written
