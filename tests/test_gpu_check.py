"""scripts/gpu-check.sh: its CPU dry run goes through every step, and without a GPU it stops
at once with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "gpu-check.sh"


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "PYTHON": sys.executable}
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=env,
                          timeout=600)


def test_dry_run_on_cpu_writes_records_and_table(tmp_path: Path) -> None:
    res = _run("--device", "cpu", "--dry-run", "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr
    table = (tmp_path / "GPU.md").read_text()
    assert table.startswith("# GPU check: CPU")
    for name in ("lstm", "transformer", "ensemble", "mix"):
        assert f"| {name}" in table
    records = [json.loads(p.read_text()) for p in (tmp_path / "runs").rglob("*.json")]
    assert len(records) == 4 and all(r["verified"] for r in records)


def test_without_a_gpu_it_refuses(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    res = _run("--out", str(tmp_path))
    assert res.returncode == 2
    assert res.stderr.strip().startswith("gpu-check: no CUDA GPU here")
    assert not list(tmp_path.iterdir())
    assert _run("--bogus").returncode == 2
