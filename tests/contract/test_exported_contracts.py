"""The contracts partners build against (``contracts/``) match the code, and never change once
released: a change to an event is a new version, with its own schema file beside the old one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from shared.contracts import PAYLOADS
from shared.contracts.export import ASYNCAPI_FILE, SCHEMAS_DIR, event_schema, exported_files, render
from shared.contracts.topics import ALL_TOPICS, PARTNERS_INBOX

EXPORTED = Path(__file__).parents[2] / "contracts"
SAMPLES = Path(__file__).parent / "samples"
REEXPORT = "run `kith contracts export contracts` and commit the new files"


def test_every_event_type_and_version_has_a_published_schema() -> None:
    published = {path.stem for path in (EXPORTED / SCHEMAS_DIR).glob("*.json")}
    missing = {f"{kind}.v{version}" for kind, version in PAYLOADS} - published
    assert not missing, f"unpublished contracts {sorted(missing)}: {REEXPORT}"


@pytest.mark.parametrize(
    "released", sorted((EXPORTED / SCHEMAS_DIR).glob("*.json")), ids=lambda path: path.stem
)
def test_a_released_schema_never_changes(released: Path) -> None:
    kind, _, version = released.stem.rpartition(".v")
    payload = PAYLOADS.get((kind, int(version)))
    if payload is None:
        pytest.skip(f"{released.stem} is no longer produced; its schema stays for old readers")
    assert render(event_schema(payload)) == released.read_text(), (
        f"{released.stem} changed after its release: publish a new version of the event "
        "(a new class with VERSION + 1 and an upcaster from this one) instead of editing it"
    )


def test_the_asyncapi_document_is_current() -> None:
    expected = exported_files()[ASYNCAPI_FILE]
    assert (EXPORTED / ASYNCAPI_FILE).read_text() == expected, f"topics changed: {REEXPORT}"


def test_the_asyncapi_document_names_every_topic_and_resolves_every_schema() -> None:
    document: dict[str, Any] = json.loads((EXPORTED / ASYNCAPI_FILE).read_text())
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert {topic.name for topic in ALL_TOPICS} <= addresses
    assert PARTNERS_INBOX.name in addresses
    for name, message in document["components"]["messages"].items():
        assert (EXPORTED / message["payload"]["$ref"]).is_file(), name


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.json")), ids=lambda path: path.stem)
def test_every_golden_sample_is_valid_under_its_published_schema(sample: Path) -> None:
    schema = json.loads((EXPORTED / SCHEMAS_DIR / sample.name).read_text())
    jsonschema.validate(
        json.loads(sample.read_text()),
        schema,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def test_a_published_schema_refuses_a_message_of_another_type() -> None:
    offer = json.loads((EXPORTED / SCHEMAS_DIR / "offer.made.v1.json").read_text())
    declined = json.loads((SAMPLES / "offer.declined.v1.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(declined, offer)
