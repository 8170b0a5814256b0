"""Released contracts never change: every golden sample still decodes to the same event.

A sample is written once, when its version is released, and never edited. Changing a
contract so that an old sample no longer parses means releasing a new version with an
upcaster instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.contracts import PAYLOADS, decode, encode
from shared.contracts.registry import UPCASTERS

SAMPLES = Path(__file__).parent / "samples"
#: Free text a newer version no longer carries (booking keeps it): a concern's summary, a
#: resolution's or cancellation's or vetting step's reason, a check-in's or welfare note.
WITHDRAWN_TEXTS = frozenset({"summary", "reason", "note"})


def test_every_event_type_has_a_golden_sample() -> None:
    expected = {f"{kind}.v{version}.json" for kind, version in PAYLOADS}
    assert expected <= {path.name for path in SAMPLES.glob("*.json")}


def _is_upcast(sample: Path) -> bool:
    document = json.loads(sample.read_bytes())
    return (document["type"], document["version"]) in UPCASTERS


@pytest.mark.parametrize(
    "sample",
    [path for path in sorted(SAMPLES.glob("*.json")) if not _is_upcast(path)],
    ids=lambda p: p.stem,
)
def test_golden_sample_still_decodes_and_round_trips(sample: Path) -> None:
    raw = sample.read_bytes()
    envelope = decode(raw)
    assert f"{envelope.type}.v{envelope.version}" == sample.stem
    assert json.loads(encode(envelope)) == json.loads(raw)


@pytest.mark.parametrize(
    "sample",
    [path for path in sorted(SAMPLES.glob("*.json")) if _is_upcast(path)],
    ids=lambda p: p.stem,
)
def test_an_older_versions_sample_reads_as_the_current_version(sample: Path) -> None:
    """A sample of a superseded version still decodes, upcast, and says the same."""
    old = json.loads(sample.read_bytes())
    envelope = decode(sample.read_bytes())
    assert envelope.type == old["type"]
    assert envelope.version > old["version"]
    assert (envelope.type, envelope.version) in PAYLOADS
    upcast = envelope.data.model_dump(mode="json")
    kept = {name for name in old["data"] if name in upcast}
    # The only fields an upcast may drop are texts people wrote, which no longer travel.
    assert set(old["data"]) - kept <= WITHDRAWN_TEXTS
    assert {name: upcast[name] for name in kept} == {name: old["data"][name] for name in kept}


def test_a_version_1_vetting_step_reads_as_a_pass() -> None:
    envelope = decode((SAMPLES / "vetting.step_recorded.v1.json").read_bytes())
    assert envelope.version == 3
    assert envelope.data.model_dump(mode="json")["outcome"] == "passed"


@pytest.mark.parametrize(
    ("sample", "has_note"),
    [("checkin.submitted.v1.json", False), ("welfare.check_requested.v1.json", True)],
)
def test_a_version_1_note_reads_as_whether_there_was_one(sample: str, has_note: bool) -> None:
    envelope = decode((SAMPLES / sample).read_bytes())
    data = envelope.data.model_dump(mode="json")
    assert envelope.version == 2
    assert "note" not in data
    assert data["has_note"] is has_note


def test_a_version_2_vetting_failure_reads_without_its_reason() -> None:
    envelope = decode((SAMPLES / "vetting.step_recorded.v2.json").read_bytes())
    data = envelope.data.model_dump(mode="json")
    assert envelope.version == 3
    assert data["outcome"] == "revoked"
    assert "reason" not in data
