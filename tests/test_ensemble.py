"""`ensemble`: round trips, the Bayes-mixture bound, fixed share, member bits, bad members."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from mdlbench import api
from mdlbench.coding import container
from mdlbench.compressors import create
from mdlbench.compressors.ensemble import MixtureStep, member_specs
from mdlbench.errors import UsageError

LSTM_A = "lstm[hidden=8;embed=4;train_every=4]"
LSTM_B = "lstm[hidden=16;embed=8;train_every=4;lr=0.003]"
TRANS = "transformer[layers=1;dim=16;heads=2;context=8;train_every=4;lr=0.01]"
TEXT = b"she sells sea shells by the sea shore; the shells she sells are sea shells. " * 20


def roundtrip(spec: str, data: bytes):
    comp = create(spec)
    enc = comp.encode(data)
    assert comp.decode(enc.blob) == data
    assert api.decode_bytes(enc.blob) == data
    return enc


def test_member_syntax() -> None:
    assert member_specs("mix+lstm") == ["mix", "lstm"]
    assert member_specs("lstm[hidden=8;layers=2]+kt") == ["lstm:hidden=8,layers=2", "kt"]
    for bad in ("lstm+", "lstm[hidden=8", "1x"):
        with pytest.raises(UsageError):
            member_specs(bad)


def test_bad_members_are_refused() -> None:
    with pytest.raises(UsageError, match="unknown member"):
        create("ensemble:of=nosuch+lstm")
    with pytest.raises(UsageError, match="no step model"):
        create("ensemble:of=zstd+lstm")
    with pytest.raises(UsageError):
        create(f"ensemble:of={LSTM_A.replace('hidden=8', 'hidden=0')}")


def test_count_members_never_touch_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """An ensemble of kt and mix neither imports torch nor writes the float-setup meta: with
    `import torch` made to fail, it still codes (its meta is the alphabet byte alone)."""
    monkeypatch.setitem(sys.modules, "torch", None)
    enc = roundtrip("ensemble:of=kt[order=1]+mix[mem=12],streams=4", TEXT[:300])
    assert len(container.unwrap(enc.blob)[0].meta) == 1
    with pytest.raises(ImportError):
        create(f"ensemble:of=kt+{LSTM_A}").encode(TEXT[:100])


def test_neural_members_round_trip_and_repeat() -> None:
    spec = f"ensemble:of={LSTM_A}+{TRANS},streams=8"
    a = roundtrip(spec, TEXT[:1200])
    assert create(spec).encode(TEXT[:1200]).blob == a.blob
    members = a.extras["members"]
    specs = [create(m).spec for m in member_specs(f"{LSTM_A}+{TRANS}")]
    assert set(members) == set(specs) and "lstm:hidden=8,embed=4,train_every=4" in specs
    assert sum(a.extras["weights"].values()) == pytest.approx(1.0)


def test_mix_member_round_trips() -> None:
    enc = roundtrip(f"ensemble:of=mix[mem=16]+{LSTM_A},streams=8", TEXT[:800])
    assert len(enc.extras["members"]) == 2


@pytest.mark.parametrize("streams", [1, 4])
def test_bayes_mixture_bound(streams: int) -> None:
    """switch=0: mixture ≤ best member + B·log2 M (per-stream weights; B=1: the textbook bound)."""
    spec = f"ensemble:of=kt+{LSTM_A}+{LSTM_B},switch=0,streams={streams}"
    enc = roundtrip(spec, TEXT[:600])
    members = enc.extras["members"]
    assert len(members) == 3
    best = min(members.values())
    slack = 1e-9 * enc.bits_ideal
    assert enc.bits_ideal <= enc.extras["bayes_bound_bits"] + slack
    assert enc.bits_ideal <= best + streams * math.log2(3) + slack
    # and never below the best member on each stream: an average of likelihoods ≤ their max
    assert enc.bits_ideal >= enc.extras["bayes_bound_bits"] - streams * math.log2(3) - slack


def test_duplicate_members_are_told_apart() -> None:
    enc = create(f"ensemble:of={LSTM_A}+{LSTM_A},switch=0,streams=2").encode(TEXT[:300])
    names = list(enc.extras["members"])
    assert names[0] != names[1]
    a, b = enc.extras["members"].values()
    assert a == b  # same member twice: the mixture is that member exactly
    assert enc.bits_ideal == pytest.approx(a, rel=1e-9)


class _Fixed:
    """A memoryless member with fixed probabilities (to check the mixing algebra exactly)."""

    def __init__(self, p: list[float], streams: int = 1) -> None:
        self.alphabet, self.streams = len(p), streams
        self.p = np.tile(np.asarray(p, dtype=np.float64), (streams, 1))

    def predict(self) -> np.ndarray:
        return self.p.copy()

    def update(self, symbols: np.ndarray) -> None:
        pass


def _code(model: MixtureStep, symbols: list[int]) -> float:
    bits = 0.0
    for s in symbols:
        p = model.predict()[0]
        bits -= math.log2(p[s] / p.sum())
        model.update(np.array([s]))
    return bits


def test_plain_bayes_mixture_is_exact() -> None:
    """With α = 0 the mixture's code length is -log2 of the average of the members' likelihoods."""
    pa, pb = [0.7, 0.2, 0.1], [0.1, 0.3, 0.6]
    seq = [0, 2, 2, 1, 0, 2, 2, 2, 1, 2]
    bits = _code(MixtureStep([_Fixed(pa), _Fixed(pb)], 0.0), seq)
    la = math.prod(pa[s] for s in seq)
    lb = math.prod(pb[s] for s in seq)
    assert bits == pytest.approx(-math.log2((la + lb) / 2), rel=1e-12)


def test_fixed_share_follows_a_switch() -> None:
    """The data switch from member A's favourite to B's: fixed share pays about log2(n) for the
    switch, the plain mixture pays for all of A's lead; both obey their bounds."""
    pa, pb = [0.9, 0.1], [0.1, 0.9]
    seq = [0] * 200 + [1] * 200
    n, alpha = len(seq), 0.01
    bayes = _code(MixtureStep([_Fixed(pa), _Fixed(pb)], 0.0), seq)
    share = _code(MixtureStep([_Fixed(pa), _Fixed(pb)], alpha), seq)
    best_single = 200 * -math.log2(0.9) + 200 * -math.log2(0.1)
    assert bayes <= best_single + 1 + 1e-9
    assert share < bayes - 300
    # fixed share vs the best switching sequence with one switch (Herbster & Warmuth)
    best_switching = 400 * -math.log2(0.9)
    bound = best_switching + 1 + 2 * -math.log2(alpha / 2) + n * -math.log2(1 - alpha)
    assert share <= bound


def test_api_run_shows_member_bits(tmp_path) -> None:
    (rec,) = api.run(["markov:order=1,k=4,n=2000"], [f"ensemble:of=kt+{LSTM_A},streams=8"],
                     results_dir=tmp_path)
    assert rec.verified
    assert set(rec.extras["members"]) == {"kt", create(member_specs(LSTM_A)[0]).spec}
    assert rec.bits_ideal < rec.bits
