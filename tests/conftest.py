"""Shared fixtures: edge-case inputs every coder must round-trip, and a CLI runner."""

from __future__ import annotations

import importlib.util
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

EDGE_INPUTS = {
    "empty": b"",
    "one_byte": b"\x42",
    "constant": b"\x00" * 5000,
    "random": random.Random(0).randbytes(20000),
    "all_256": bytes(range(256)) * 4,
    "text": b"the quick brown fox jumps over the lazy dog. " * 200,
}


@pytest.fixture(autouse=True)
def one_timed_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests check bits, not speed: each cell is timed once unless a test asks for more
    (test_timing does). Benchmarks, with the real policy, are `make bench`."""
    from mdlbench.harness import measure

    monkeypatch.setattr(measure, "DEFAULT", measure.TimingPolicy(repeat=1, min_time=0))


@pytest.fixture(params=sorted(EDGE_INPUTS))
def edge_input(request: pytest.FixtureRequest) -> bytes:
    return EDGE_INPUTS[request.param]


@pytest.fixture
def results_dir(tmp_path):
    return tmp_path / "runs"


class CliResult(NamedTuple):
    code: int
    out: str
    err: str


@pytest.fixture
def mdl(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """The console entry point called in this process: mdl("run", ...) -> (exit code, stdout,
    stderr). What only a real process proves (exit status, kill -9) has subprocess tests."""
    from mdlbench import cli

    def call(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            cli.main(list(args))
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else int(e.code is not None)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return call


@pytest.fixture
def fresh_registries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """mdlbench's own compressors, datasets and probes, no plugin loaded, before and after the
    test: what a test registers or loads stays in it."""
    import mdlbench.compressors
    import mdlbench.datasets
    import mdlbench.models.probes  # noqa: F401
    from mdlbench import plugins, registry

    saved = {what: dict(table) for what, table in registry.tables()}
    modules = set(sys.modules)
    monkeypatch.setattr(plugins, "_loaded", plugins._Loaded())
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv(plugins.ENV, raising=False)
    yield
    for what, table in registry.tables():
        table.clear()
        table.update(saved.get(what, {}))
    for name in set(sys.modules) - modules:
        if name.startswith("mdlbench_plugin_"):
            del sys.modules[name]
    plugins._snapshot.cache_clear()


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A GPT-2-style causal LM with a byte-level BPE tokenizer, trained for a few seconds on the
    first 100 kB of the shipped bible by scripts/train-tiny-lm.py and saved in the transformers
    format: what `hf:model=FOLDER` loads where no hub model can be downloaded."""
    pytest.importorskip("transformers")
    from mdlbench.datasets import load

    script = Path(__file__).resolve().parents[1] / "scripts" / "train-tiny-lm.py"
    spec = importlib.util.spec_from_file_location("train_tiny_lm", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path_factory.mktemp("tiny-lm")
    module.train(load("bible").data[:100_000].decode(), out, vocab=400, layers=1, dim=32,
                 heads=2, context=64, steps=80, batch=8, lr=1e-2)
    return out
