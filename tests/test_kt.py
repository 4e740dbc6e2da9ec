"""The `kt` context coder: round trips, hypothesis inputs, damaged streams, determinism, the
binary decomposition's exactness, lockstep streams and the step model."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdlbench import api, datasets
from mdlbench.coding import container, streams
from mdlbench.compressors import create
from mdlbench.compressors.kt import KTStepModel, regret_bound, table_layout
from mdlbench.errors import CorruptStreamError, DataError, UsageError

SPECS = ["kt", "kt:order=0", "kt:order=1,streams=3", "kt:order=3", "kt:order=4,hashbits=12",
         "kt:order=2,alpha=0.05", "kt:order=1,alpha=1,alphabet=256", "kt:order=2,streams=16"]
BIBLE = Path(__file__).resolve().parents[1] / "datasets" / "bible" / "bible.txt"


@pytest.mark.parametrize("spec", SPECS)
def test_round_trip_edge_inputs(spec: str, edge_input: bytes) -> None:
    comp = create(spec)
    enc = comp.encode(edge_input)
    assert comp.decode(enc.blob) == edge_input
    assert api.decode_bytes(enc.blob) == edge_input
    if edge_input and max(edge_input) > 0:
        assert enc.bits >= enc.bits_ideal - 64
        assert enc.bits <= enc.bits_ideal * 1.001 + 8 * 64  # payload near ideal; header small


def test_constant_input_costs_only_a_few_bits() -> None:
    data = b"\x07" * 5000  # K = 8, one symbol: the KT cost is ~ (K-1)/2 log2 n + O(1) bits
    enc = create("kt:order=0").encode(data)
    assert enc.bits_ideal <= regret_bound(8, 0, len(data))
    assert create("kt:order=0").decode(enc.blob) == data


def test_all_zero_input_has_no_payload() -> None:
    enc = create("kt").encode(bytes(1000))
    header, payload = container.unwrap(enc.blob)
    assert payload == b"" and enc.bits_ideal == 0.0
    assert api.decode_bytes(enc.blob) == bytes(1000)


def test_context_model_learns() -> None:
    rng = np.random.default_rng(0)
    # order-1 deterministic cycle with noise: order 1 must beat order 0 by far
    x = np.cumsum(rng.random(20000) < 0.05) % 7
    data = x.astype(np.uint8).tobytes()
    b0 = create("kt:order=0").encode(data).bits
    b1 = create("kt:order=1").encode(data).bits
    assert b1 < 0.5 * b0


def test_hashed_contexts_round_trip_and_layout() -> None:
    assert table_layout(256, 2) == (True, 65536)
    dense, slots = table_layout(256, 3)
    assert not dense and slots * 256 == 1 << 24
    assert table_layout(4, 8) == (True, 4**8)
    assert table_layout(4, 8, hashbits=10) == (False, 1024)
    with pytest.raises(UsageError):
        table_layout(256, 6, hashbits=30)
    rng = np.random.default_rng(5)
    data = bytes(rng.integers(0, 256, 3000, dtype=np.uint8)) + b"abcabcabd" * 300
    comp = create("kt:order=6,hashbits=8")
    enc = comp.encode(data)
    assert not enc.extras["dense"] and "regret_bound_bits" not in enc.extras
    assert comp.decode(enc.blob) == data


def test_alphabet_param() -> None:
    data = bytes([0, 1, 2, 3, 2, 1] * 100)
    small = create("kt:order=1").encode(data)
    forced = create("kt:order=1,alphabet=256").encode(data)
    assert small.extras["alphabet"] == 4 and forced.extras["alphabet"] == 256
    assert small.bits < forced.bits
    assert create("kt:order=1,alphabet=256").decode(forced.blob) == data
    with pytest.raises(DataError):
        create("kt:alphabet=3").encode(data)
    with pytest.raises(UsageError):
        create("kt:alpha=0")
    with pytest.raises(UsageError):
        create("kt:coder=range")  # kt codes with the binary coder: no choice of coder
    with pytest.raises(UsageError):
        create("kt:streams=0")


def _exact_kt_bits(data: bytes, order: int, k: int, alpha: float = 0.5) -> float:
    """The KT code length of `data` (one stream), straight from the formula."""
    x = np.frombuffer(data, np.uint8)
    counts: dict[tuple[int, ...], np.ndarray] = {}
    bits = 0.0
    for t, s in enumerate(x):
        ctx = tuple(int(x[j]) if j >= 0 else 0 for j in range(t - order, t))
        c = counts.setdefault(ctx, np.zeros(k))
        bits -= math.log2((c[s] + alpha) / (c.sum() + k * alpha))
        c[s] += 1
    return bits


@pytest.mark.parametrize("k", [2, 3, 5, 8, 40, 256])
def test_binary_decomposition_is_exactly_kt(k: int) -> None:
    """The D binary decisions' probabilities multiply to the KT probability: the exact length
    the coder reports is the formula's, and what it codes (16-bit) is within a hair of it."""
    rng = np.random.default_rng(k)
    data = bytes(rng.integers(0, k, 3000, dtype=np.uint8)) + bytes([k - 1])
    for order, alpha in ((0, 0.5), (1, 0.5), (2, 0.05)):
        enc = create(f"kt:order={order},alpha={alpha}").encode(data)
        exact = _exact_kt_bits(data, order, k, alpha)
        assert enc.extras["bits_kt"] == pytest.approx(exact, rel=1e-12, abs=1e-9)
        assert abs(enc.bits_ideal - exact) <= 1e-4 * exact + 1


def test_quantisation_and_coder_overhead() -> None:
    """Measured: the 16-bit rounding of the binary probabilities costs under 0.001 % of the KT
    length, and the binary coder adds under 0.01 % plus its flush byte (+ the header)."""
    data = BIBLE.read_bytes()[:300_000]
    mk = datasets.load("markov:order=2,k=4,n=300000").data
    for spec, x in (("kt:order=2", data), ("kt:order=3", data), ("kt:order=2", mk)):
        enc = create(spec).encode(x)
        exact, ideal = enc.extras["bits_kt"], enc.bits_ideal
        assert abs(ideal - exact) <= 1e-5 * exact + 1, (spec, ideal - exact)  # either way
        payload = enc.bits - create(spec).container_bits(x, meta=bytes([max(x)]))
        assert ideal - 8 <= payload <= ideal * 1.0001 + 8, (spec, payload - ideal)


def test_segments_add_up() -> None:
    data = BIBLE.read_bytes()[:20_001]
    for spec in ("kt", "kt:streams=7"):
        enc = create(spec).encode(data)
        seg = enc.extras["segments"]
        assert 10 < len(seg) <= 1000
        assert sum(s["bytes"] for s in seg) == len(data)
        assert sum(s["bits"] for s in seg) == pytest.approx(enc.bits_ideal, rel=1e-12)


@pytest.mark.parametrize("b", [1, 3, 16])
def test_step_model_is_the_coder(b: int) -> None:
    """KTStepModel(K, B) gives exactly the distributions of kt:streams=B: coded by constriction
    in the same lockstep layout, its ideal length is the coder's exact KT length."""
    data = b"abracadabra, abracadabra! " * 50 + b"a cadabra bar" * 7
    k = max(data) + 1
    enc_kt = create(f"kt:order=2,streams={b}").encode(data)
    code = streams.encode_streams(create("kt:order=2").step_model(k, b), data)
    assert code.bits_ideal == pytest.approx(enc_kt.extras["bits_kt"], rel=1e-12)
    out = streams.decode_streams(create("kt:order=2").step_model(k, b), code.payload, len(data))
    assert out == data


def test_streams_share_one_table() -> None:
    """Two lockstep streams count into one table; a step's predictions see the counts before
    it (both streams in the same context get the same row), its symbols count after it."""
    m = KTStepModel(3, 2, order=0)
    assert np.array_equal(m.predict(), np.full((2, 3), 0.5))
    m.update(np.array([2, 2]))
    assert np.array_equal(m.predict(), [[0.5, 0.5, 2.5], [0.5, 0.5, 2.5]])
    m = KTStepModel(3, 2, order=1)
    m.update(np.array([1, 2]))  # contexts (0) and (0): both counted there
    m.update(np.array([0, 0]))  # contexts (1) and (2)
    rows = m.predict()  # contexts (0) and (0) again
    assert np.array_equal(rows, [[0.5, 1.5, 1.5], [0.5, 1.5, 1.5]])
    with pytest.raises(ValueError):
        m.update(np.array([0, 3]))
    # one stream alone is the plain coder; B streams differ from it (zero-padded starts)
    data = bytes(np.random.default_rng(2).integers(0, 3, 900, dtype=np.uint8))
    one, two = (create(f"kt:order=1,streams={b}").encode(data) for b in (1, 2))
    assert one.bits_ideal != two.bits_ideal
    assert create("kt:order=1,streams=2").decode(two.blob) == data


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=120),
                      st.lists(st.integers(0, 3), max_size=300).map(bytes)),
       order=st.integers(0, 3), b=st.sampled_from([1, 2, 5]))
def test_hypothesis_round_trips(data: bytes, order: int, b: int) -> None:
    comp = create(f"kt:order={order},streams={b}")
    assert comp.decode(comp.encode(data).blob) == data


def test_damaged_streams_raise() -> None:
    data = b"It was the best of times, it was the worst of times. " * 30
    for spec in ("kt:order=2", "kt:order=1,streams=4", "kt:order=0,alphabet=256"):
        blob = api.encode_bytes(spec, data)
        header, payload = container.unwrap(blob)
        for cut in range(len(blob) - len(payload), len(blob), 7):
            with pytest.raises(CorruptStreamError):
                api.decode_bytes(blob[:cut])
        rng = np.random.default_rng(0)
        for pos in rng.integers(len(blob) - len(payload), len(blob), 40):
            bad = bytearray(blob)
            bad[pos] ^= 1 << int(rng.integers(0, 8))
            with pytest.raises(CorruptStreamError):
                api.decode_bytes(bytes(bad))
        # meta that does not fit the spec: a missing alphabet byte, or an extra one
        s = header.spec
        for meta in (b"", b"\x01\x02") if not create(s).config["alphabet"] else (b"\x05",):
            with pytest.raises(CorruptStreamError):
                api.decode_bytes(container.wrap(s, data, payload, meta))


def test_deterministic_bits() -> None:
    rng = np.random.default_rng(11)
    data = bytes(rng.integers(0, 40, 30000, dtype=np.uint8))
    for spec in ("kt:order=2", "kt:order=3,streams=8", "kt:order=5"):
        a, b = create(spec).encode(data), create(spec).encode(data)
        assert a.blob == b.blob and a.bits_ideal == b.bits_ideal


def test_regret_bound_reported() -> None:
    data = bytes(np.random.default_rng(0).integers(0, 4, 5000, dtype=np.uint8))
    enc = create("kt:order=1").encode(data)
    header_bits = 8 * len(container.wrap("kt:order=1", data, b"", b"\x03"))
    expect = 4 * (1.5 * np.log2(5000) + 2) + header_bits + 64
    assert enc.extras["regret_bound_bits"] == pytest.approx(expect)
    assert "regret_bound_bits" not in create("kt:order=1,alpha=1").encode(data).extras
    assert "regret_bound_bits" not in create("kt:order=1,streams=2").encode(data).extras


@pytest.mark.slow
def test_round_trip_10mb() -> None:
    rng = np.random.default_rng(8)
    text = (b"In the beginning God created the heaven and the earth. " * 2000)
    parts = [text, bytes(rng.integers(0, 256, 1 << 20, dtype=np.uint8))]
    data = b"".join(parts * 10)[: 10_500_000]
    assert len(data) >= 10_000_000
    comp = create("kt:order=3")
    assert comp.decode(comp.encode(data).blob) == data
