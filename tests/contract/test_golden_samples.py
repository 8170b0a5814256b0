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
    assert {name: upcast[name] for name in old["data"]} == old["data"]


def test_a_version_1_vetting_step_reads_as_a_pass() -> None:
    envelope = decode((SAMPLES / "vetting.step_recorded.v1.json").read_bytes())
    assert envelope.version == 2
    assert envelope.data.model_dump(mode="json")["outcome"] == "passed"
