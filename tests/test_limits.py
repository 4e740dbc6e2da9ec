"""The truth test: real code lengths against the exact limit of synthetic sources.

(a) Barron's lemma. For a uniquely decodable code and x drawn from P,
    P[ L(x) < -log2 P(x) - c ] <= S * 2^-c,   S = Σ_x 2^-L(x) (the Kraft sum).
For an ideal code length (-log2 of a probability model) S = 1. For real streams L = 8 x bytes of
an injective map into byte strings, so at most 256^l inputs share a stream of l bytes and the
strings of each length contribute <= 1 to S; the event needs 8 l < -log2 P(x), and the sources
clip every probability at >= 1e-12, so -log2 P(x) < 40 n + 40 and S <= l_max + 1 = 5 n + 6.
With m (coder, dataset) checks and a total failure probability delta = 1e-6 (union bound):
    c_real = log2(m (5 n + 6) / delta),   c_ideal = log2(m / delta).
These samples are seeded, so a failure is not bad luck at 1e-6: it is a coder that cheats.

(b) KT regret on an order-k Markov source (n >= 1e5). The worst-case bound the coder reports
(`extras["regret_bound_bits"]`) is K^k ((K-1)/2) log2 n + O(1) with
    O(1) = K^k log2 K (the KT per-context worst case, reached at m = 1) + header bits + 64
(the binary coder's flush byte and rounding). Measured regret bits - limit_bits must stay
within 10 % of it (<= 1.1 x bound). The theorem speaks of the exact KT length
(`extras["bits_kt"]`); the real stream codes 16-bit roundings of the same binary probabilities,
and stays within 0.01 % + 64 bits of it (measured: under 0.2 bits of rounding and a few bytes
of coder overhead on these sources). Since the bound is worst case, the measurement is also
checked two-sided against the Clarke-Barron expectation for a Jeffreys (KT) mixture,
    E[ideal - limit] = Σ_ctx [((K-1)/2) log2(m_ctx / (2 pi e)) + log2(pi^(K/2) / Γ(K/2))],
within 6 standard deviations of the ML-vs-truth fluctuation (sqrt(d/2) log2 e bits, d = K^k (K-1)
free parameters) plus K^k log2 K for the zero-padded start-up symbols.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mdlbench import datasets
from mdlbench.compressors import REGISTRY, create
from mdlbench.compressors.kt import regret_bound

DELTA = 1e-6
SOURCES = ["iid:k=4,n=100000", "markov:order=1,k=4,n=100000", "markov:order=2,k=4,n=100000",
           "hmm:n=100000"]
CODERS = ["kt:order=0", "kt:order=1", "kt:order=2", "kt:order=3", "kt:order=2,alpha=0.05",
          "zstd:level=19", "xz:preset=9", "bz2:level=9", "zlib:level=9", "brotli:quality=11",
          "lz4:level=16", "ppmd:order=6,mem=64", "zpaq:level=5"]
if "mix" in REGISTRY:
    CODERS.append("mix")


@pytest.fixture(scope="module")
def loaded() -> dict[str, datasets.Dataset]:
    return {s: datasets.load(s) for s in SOURCES}


def test_no_coder_beats_the_source_limit(loaded: dict[str, datasets.Dataset]) -> None:
    m = len(SOURCES) * len(CODERS)
    failures = []
    for name, ds in loaded.items():
        n = len(ds.data)
        c_real = math.log2(m * (5 * n + 6) / DELTA)
        c_ideal = math.log2(m / DELTA)
        assert ds.limit_bits is not None and 40 < c_real < 70
        for spec in CODERS:
            enc = create(spec).encode(ds.data)
            if enc.bits < ds.limit_bits - c_real:
                failures.append(f"{spec} on {name}: {enc.bits} < {ds.limit_bits:.0f} - {c_real:.1f}")
            if enc.bits_ideal is not None and enc.bits_ideal < ds.limit_bits - c_ideal:
                failures.append(f"{spec} on {name}: ideal {enc.bits_ideal:.0f} < limit - "
                                f"{c_ideal:.1f}")
    assert not failures, failures


def test_limit_check_catches_a_cheat(loaded: dict[str, datasets.Dataset]) -> None:
    """The check above can fail: a 'coder' that forgets the last 1 % of its stream is caught."""
    ds = loaded["markov:order=1,k=4,n=100000"]
    bits = create("kt:order=1").encode(ds.data).bits
    c_real = math.log2(len(SOURCES) * len(CODERS) * (5 * len(ds.data) + 6) / DELTA)
    assert 0.99 * bits < ds.limit_bits - c_real


def _ml_and_visits(x: np.ndarray, order: int, k: int) -> tuple[float, np.ndarray]:
    """-log2 P_ML(x) under the zero-padded order-k model class, and the per-context visits."""
    ctx = np.zeros(len(x), dtype=np.int64)
    for j in range(1, order + 1):
        prev = np.concatenate([np.zeros(j, np.int64), x[:-j].astype(np.int64)])
        ctx += prev * k ** (j - 1)
    counts = np.zeros((k**order, k))
    np.add.at(counts, (ctx, x), 1)
    visits = counts.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(counts > 0, counts * np.log2(counts / visits[:, None]), 0.0)
    return float(-t.sum()), visits


@pytest.mark.parametrize("source,order", [
    ("iid:k=4,n=100000", 0), ("iid:k=16,n=100000", 0), ("markov:order=1,k=4,n=100000", 1),
    ("markov:order=2,k=4,n=100000", 2), ("markov:order=2,k=4,n=200000", 2),
    ("markov:order=1,k=8,n=200000,seed=3", 1)])
def test_kt_regret_within_its_bound(source: str, order: int) -> None:
    ds = datasets.load(source)
    x = np.frombuffer(ds.data, np.uint8)
    k, n = int(x.max()) + 1, len(x)
    enc = create(f"kt:order={order}").encode(ds.data)
    bound = enc.extras["regret_bound_bits"]
    regret = enc.bits - ds.limit_bits
    # (the check) within 10 % of the theoretical bound; a positive regret
    assert 0 < regret <= 1.1 * bound, (regret, bound)
    # the bound's leading term is the textbook one
    d = k**order * (k - 1)
    assert regret_bound(k, order, n) == pytest.approx(d / 2 * math.log2(n) + k**order * math.log2(k))
    # the real stream is the exact KT length plus the rounding and the coder's overhead
    exact = enc.extras["bits_kt"]
    header = create(f"kt:order={order}").container_bits(ds.data, meta=bytes([k - 1]))
    assert exact - 8 <= enc.bits - header <= exact * 1.0001 + 64
    # worst-case theorem against the best model of the class, for this very sequence
    ml, visits = _ml_and_visits(x, order, k)
    per_ctx = sum((k - 1) / 2 * math.log2(v) + math.log2(k) for v in visits if v > 0)
    assert 0 <= exact - ml <= per_ctx
    # two-sided: the Clarke-Barron expectation of the KT mixture against the true source
    jeffreys = math.log2(math.pi ** (k / 2) / math.gamma(k / 2))
    expect = sum((k - 1) / 2 * math.log2(v / (2 * math.pi * math.e)) + jeffreys
                 for v in visits if v > 0)
    sd = math.sqrt(d / 2) * math.log2(math.e)
    slack = 6 * sd + k**order * math.log2(k)
    assert abs((exact - ds.limit_bits) - expect) <= slack, (exact - ds.limit_bits, expect, slack)


def test_kt_regret_bound_is_tight_on_a_boundary_sequence() -> None:
    """A worst case for KT: one symbol repeated. Its cost approaches ((K-1)/2) log2 n + O(1)."""
    for k in (2, 4):
        n = 50_000
        data = bytes([k - 1]) + bytes(n - 1)  # K = k; afterwards the symbol 0 only
        exact = create("kt:order=0").encode(data).extras["bits_kt"]
        ml = -((n - 1) * math.log2((n - 1) / n) + math.log2(1 / n))
        assert exact - ml <= regret_bound(k, 0, n)
        assert exact - ml >= (k - 1) / 2 * math.log2(n) - 2 * k
