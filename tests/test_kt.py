"""The `kt` context coder: round trips, hypothesis inputs, damaged streams, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdlbench import api
from mdlbench.coding import container, core
from mdlbench.coding.loop import code_steps
from mdlbench.compressors import create
from mdlbench.compressors.context import KTStepModel, regret_bound, table_layout
from mdlbench.errors import CorruptStreamError, DataError, UsageError

SPECS = ["kt", "kt:order=0", "kt:order=1,coder=ans", "kt:order=3", "kt:order=4,hashbits=12",
         "kt:order=2,alpha=0.05", "kt:order=1,alpha=1,alphabet=256"]


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
        create("kt:coder=huffman")


def test_step_model_matches_the_coder_bit_for_bit() -> None:
    data = b"abracadabra, abracadabra! " * 50
    k = max(data) + 1
    enc_kt = create("kt:order=2").encode(data)
    enc = core.Encoder()
    sym = np.frombuffer(data, np.uint8).astype(np.int64)[:, None]
    code_steps(create("kt:order=2").step_model(k, 1), len(data), encoder=enc, symbols=sym)
    assert enc.bits_ideal == pytest.approx(enc_kt.bits_ideal, rel=1e-12)  # summation order
    _, payload = container.unwrap(enc_kt.blob)
    assert enc.finish() == payload


def test_step_model_streams_independent_or_shared() -> None:
    rng = np.random.default_rng(2)
    a = rng.integers(0, 3, 400)
    b = (a + 1) % 3
    sym = np.stack([a, b], axis=1)
    both = core.Encoder()
    code_steps(KTStepModel(3, 2, order=1), 400, encoder=both, symbols=sym)
    alone = 0.0
    for col in range(2):
        e = core.Encoder()
        code_steps(KTStepModel(3, 1, order=1), 400, encoder=e, symbols=sym[:, col:col + 1])
        alone += e.bits_ideal
    assert both.bits_ideal == pytest.approx(alone, rel=1e-12)
    shared = core.Encoder()
    code_steps(KTStepModel(3, 2, order=1, shared=True), 400, encoder=shared, symbols=sym)
    assert shared.bits_ideal != pytest.approx(alone, rel=1e-6)
    m = KTStepModel(3, 2, order=1)
    with pytest.raises(ValueError):
        m.update(np.array([0, 3]))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=120),
                      st.lists(st.integers(0, 3), max_size=300).map(bytes)),
       order=st.integers(0, 3), coder=st.sampled_from(["range", "ans"]))
def test_hypothesis_round_trips(data: bytes, order: int, coder: str) -> None:
    comp = create(f"kt:order={order},coder={coder}")
    assert comp.decode(comp.encode(data).blob) == data


def test_damaged_streams_raise() -> None:
    data = b"It was the best of times, it was the worst of times. " * 30
    for spec in ("kt:order=2", "kt:order=1,coder=ans", "kt:order=0,alphabet=256"):
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
    for spec in ("kt:order=2", "kt:order=3,coder=ans", "kt:order=5"):
        a, b = create(spec).encode(data), create(spec).encode(data)
        assert a.blob == b.blob and a.bits_ideal == b.bits_ideal


def test_regret_bound_reported() -> None:
    data = bytes(np.random.default_rng(0).integers(0, 4, 5000, dtype=np.uint8))
    enc = create("kt:order=1").encode(data)
    header_bits = 8 * len(container.wrap("kt:order=1", data, b"", b"\x03"))
    expect = 4 * (1.5 * np.log2(5000) + 2) + header_bits + 64
    assert enc.extras["regret_bound_bits"] == pytest.approx(expect)
    assert "regret_bound_bits" not in create("kt:order=1,alpha=1").encode(data).extras


@pytest.mark.slow
def test_round_trip_10mb() -> None:
    rng = np.random.default_rng(8)
    text = (b"In the beginning God created the heaven and the earth. " * 2000)
    parts = [text, bytes(rng.integers(0, 256, 1 << 20, dtype=np.uint8))]
    data = b"".join(parts * 10)[: 10_500_000]
    assert len(data) >= 10_000_000
    comp = create("kt:order=3")
    assert comp.decode(comp.encode(data).blob) == data


def test_ans_refuses_inputs_whose_buffer_is_too_large() -> None:
    with pytest.raises(UsageError, match="coder=range"):
        create("kt:coder=ans,alphabet=256").encode(bytes(1 << 20) + b"x")
