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

SAMPLES = Path(__file__).parent / "samples"


def test_every_event_type_has_a_golden_sample() -> None:
    expected = {f"{kind}.v{version}.json" for kind, version in PAYLOADS}
    assert expected <= {path.name for path in SAMPLES.glob("*.json")}


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_golden_sample_still_decodes_and_round_trips(sample: Path) -> None:
    raw = sample.read_bytes()
    envelope = decode(raw)
    assert f"{envelope.type}.v{envelope.version}" == sample.stem
    assert json.loads(encode(envelope)) == json.loads(raw)
