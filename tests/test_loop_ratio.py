"""scripts/loop_ratio.py: its plain loop is the coder's training, weight for weight (so the
ratio compares like with like), and the script runs end to end on a tiny input (no timing is
asserted)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mdlbench import plugins
from mdlbench.coding.streams import encode_streams, layout
from mdlbench.compressors import create

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "loop_ratio.py"
SPECS = {
    "lstm": "lstm:hidden=8,embed=4,layers=2,streams=4,train_every=4",
    "transformer": "transformer:layers=1,dim=8,heads=2,context=6,streams=4,train_every=4",
    "gru": "gru:hidden=8,embed=4,streams=4,train_every=4",
}
TEXT = b"the quick brown fox jumps over the lazy dog. " * 12


def _script():
    spec = importlib.util.spec_from_file_location("loop_ratio", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("n", [len(TEXT), len(TEXT) - 3])  # a full layout and a ragged one
def test_plain_loop_trains_the_coders_network(name: str, n: int, fresh_registries) -> None:
    plugins.load_file(ROOT / "examples" / "gru_coder.py")
    coder = create(SPECS[name])
    data = TEXT[:n]
    model = coder.step_model(max(data) + 1, layout(n, 4)[0])
    with torch.random.fork_rng(devices=[]):
        encode_streams(model, data, segment_steps=4)
    net = _script().plain(coder, data)
    assert model.updates > 5
    for (key, a), b in zip(model.net.state_dict().items(), net.state_dict().values(),
                           strict=True):
        assert torch.equal(a, b), key


def test_script_prints_the_ratio_table() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, str(SCRIPT), "--data", "bible:head=1200", "--repeat", "1"]
    for spec in SPECS.values():
        args += ["-c", spec]
    out = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600, check=True)
    rows = [line.split("|") for line in out.stdout.splitlines() if line.startswith("| ")]
    assert [r[1].strip() for r in rows[1:]] == list(SPECS.values())
    assert all(float(r[4]) > 0 for r in rows[1:])
