"""Shared fixtures: edge-case inputs every coder must round-trip, and a CLI runner."""

from __future__ import annotations

import random

import pytest

EDGE_INPUTS = {
    "empty": b"",
    "one_byte": b"\x42",
    "constant": b"\x00" * 5000,
    "random": random.Random(0).randbytes(20000),
    "all_256": bytes(range(256)) * 4,
    "text": b"the quick brown fox jumps over the lazy dog. " * 200,
}


@pytest.fixture(params=sorted(EDGE_INPUTS))
def edge_input(request: pytest.FixtureRequest) -> bytes:
    return EDGE_INPUTS[request.param]


@pytest.fixture
def results_dir(tmp_path):
    return tmp_path / "runs"
