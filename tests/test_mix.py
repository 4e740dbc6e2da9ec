"""The `mix` context-mixing coder and its binary arithmetic coder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import constriction
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdlbench.api import decode_bytes, encode_bytes
from mdlbench.coding import binary, container
from mdlbench.compressors import mix
from mdlbench.compressors.lookup import create
from mdlbench.compressors.mix import Shape, detect_shape
from mdlbench.errors import CorruptStreamError, UsageError

CANTERBURY = Path(__file__).resolve().parents[1] / "datasets" / "canterbury"
SMALL = "mix:mem=16"  # small tables: fast to allocate, same code path


# ----------------------------------------------------------------- binary arithmetic coder

def _bits_and_probs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    probs = rng.integers(1, 65536, n)
    skewed = rng.random(n) < 0.5  # half the bits highly predictable, as in real models
    probs = np.where(skewed, rng.integers(64000, 65536, n), probs)
    probs = np.where(rng.random(n) < 0.5, probs, 65536 - probs)
    probs = np.clip(probs, 1, 65535)
    bits = (rng.random(n) < probs / 65536).astype(np.int64)
    return bits, probs


def test_binary_coder_round_trip_and_overhead_vs_constriction() -> None:
    bits, probs = _bits_and_probs(1_000_000, 0)
    stream = binary.encode_bits(bits, probs)
    assert np.array_equal(binary.decode_bits(stream, probs), bits)
    ideal = binary.ideal_bits(bits, probs)
    # constriction's range coder on the very same probabilities
    enc = constriction.stream.queue.RangeEncoder()
    p1 = probs / 65536.0
    enc.encode(bits.astype(np.int32), constriction.stream.model.Categorical(perfect=False),
               np.stack([1.0 - p1, p1], axis=1))
    c_bits = 32 * enc.get_compressed().size
    ours = 8 * len(stream)
    assert ours <= ideal * 1.0001 + 32, (ours, ideal)     # overhead <= 0.01 % (+ flush byte)
    assert ours >= ideal - 32                             # padding carries a few bits
    assert ours <= c_bits + 64                            # no worse than constriction
    assert c_bits >= ideal - 1                            # both measured against one ideal


@pytest.mark.parametrize("n", [0, 1, 2, 7, 100])
def test_binary_coder_short_inputs(n: int) -> None:
    bits, probs = _bits_and_probs(n, n + 1)
    stream = binary.encode_bits(bits, probs)
    assert np.array_equal(binary.decode_bits(stream, probs), bits)


def test_binary_coder_extreme_probabilities() -> None:
    n = 20000
    for p in (1, 65535):
        probs = np.full(n, p)
        bits = np.ones(n, dtype=np.int64) if p == 65535 else np.zeros(n, dtype=np.int64)
        stream = binary.encode_bits(bits, probs)
        assert len(stream) <= 3
        assert np.array_equal(binary.decode_bits(stream, probs), bits)
        # the unlikely outcome every time: 16 bits each, still exact
        stream = binary.encode_bits(1 - bits, probs)
        assert np.array_equal(binary.decode_bits(stream, probs), 1 - bits)
        assert abs(8 * len(stream) - 16 * n) <= 40


def test_binary_coder_rejects_bad_probabilities() -> None:
    with pytest.raises(ValueError):
        binary.encode_bits(np.zeros(3, dtype=np.int64), np.array([0, 5, 6]))
    with pytest.raises(ValueError):
        binary.encode_bits(np.zeros(3, dtype=np.int64), np.array([1, 5, 65536]))


# ----------------------------------------------------------------- the mix coder

def test_mix_round_trips_edge_inputs(edge_input: bytes) -> None:
    comp = create(SMALL)
    enc = comp.encode(edge_input)
    assert comp.decode(enc.blob) == edge_input
    assert decode_bytes(enc.blob) == edge_input
    if edge_input:
        # real bits within the coder overhead of the ideal (+ container header)
        assert enc.bits >= enc.bits_ideal - 8
        assert enc.bits <= enc.bits_ideal * 1.0001 + 8 * 64


def test_mix_default_spec_round_trip_text() -> None:
    data = (CANTERBURY / "xargs.1").read_bytes()
    blob = encode_bytes("mix", data)
    assert decode_bytes(blob) == data
    assert 8 * len(blob) < 3.4 * len(data)


@pytest.mark.parametrize("spec", ["mix:orders=1-4,word=false,mem=16",
                                  "mix:orders=0,match=false,mem=16",
                                  "mix:orders=2-3+6+8,lr=20,limit=127,mem=16"])
def test_mix_variants_round_trip(spec: str) -> None:
    data = (CANTERBURY / "grammar.lsp").read_bytes() * 3
    comp = create(spec)
    assert comp.decode(comp.encode(data).blob) == data


def test_mix_compresses_and_adapts() -> None:
    rng = np.random.default_rng(5)
    noise = rng.integers(0, 256, 20000, dtype=np.uint8).tobytes()
    enc = create(SMALL).encode(noise)
    assert enc.bits <= 8 * len(noise) * 1.01 + 800       # random data: ~no expansion
    const = create(SMALL).encode(b"a" * 100000)
    assert const.bits < 0.01 * 8 * 100000                 # constant data: nearly free
    rep = noise[:5000] * 4                                 # a long repeat: the match model
    assert create(SMALL).encode(rep).bits < 8 * 5000 * 1.1


def test_mix_beats_ppmd_o6_on_alice() -> None:
    data = (CANTERBURY / "alice29.txt").read_bytes()
    mix = create("mix").encode(data)
    ppmd = create("ppmd:order=6,mem=256").encode(data)
    assert mix.bits < ppmd.bits, (mix.bits, ppmd.bits)


def test_mix_bad_params() -> None:
    for spec in ("mix:orders=7-3", "mix:orders=a", "mix:orders=1+1", "mix:orders=30",
                 "mix:mem=5", "mix:lr=0"):
        with pytest.raises(UsageError):
            create(spec)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=64))
def test_mix_hypothesis_round_trip(data: bytes) -> None:
    comp = _HYPO
    assert comp.decode(comp.encode(data).blob) == data


_HYPO = create("mix:mem=12")


def test_mix_hash_table_starts_on_a_cache_line() -> None:
    """A slot's 3-way probe stays within one 64-byte line only if the table starts on one
    (1 MB: allocated by mmap, which alone would start it 16 bytes into a line)."""
    model = create("mix:mem=20").model(1000, 1)
    assert model.state.slots.ctypes.data % 64 == 0
    assert model.state.slots.shape == (((1 << 16) + 1) * 16,)


@pytest.mark.slow
def test_mix_ten_megabytes() -> None:
    rng = np.random.default_rng(11)
    text = (CANTERBURY / "lcet10.txt").read_bytes()
    parts = [text, rng.integers(0, 256, 1 << 20, dtype=np.uint8).tobytes(), b"\x00" * 500000]
    data = b"".join(parts * 5)[: 10_500_000]
    data += bytes(rng.integers(0, 256, 10_500_000 - len(data), dtype=np.uint8))
    comp = create("mix")
    enc = comp.encode(data)
    assert comp.decode(enc.blob) == data


# ----------------------------------------------------------------- binary contexts

_BIG = {"kennedy.xls", "ptt5", "plrabn12.txt", "lcet10.txt"}


@pytest.mark.parametrize("name", [
    pytest.param(p.name, marks=[pytest.mark.slow] if p.name in _BIG else [])
    for p in sorted(CANTERBURY.iterdir()) if p.name != "MANIFEST.json"])
def test_mix_canterbury_round_trip_and_deterministic(name: str) -> None:
    data = (CANTERBURY / name).read_bytes()
    blob = create("mix").encode(data).blob
    assert create("mix").encode(data).blob == blob
    assert create("mix").decode(blob) == data


@pytest.mark.parametrize("name", ["kennedy.xls", "ptt5"])
def test_mix_binary_prefix_round_trip_and_deterministic(name: str) -> None:
    """120 kB from the middle of the two binary files (the full ones are `slow`): record and
    sparse contexts on, a round trip, the same bytes twice, and fewer bits than without."""
    data = (CANTERBURY / name).read_bytes()[200_000:320_000]
    enc = create("mix").encode(data)
    header, _ = container.unwrap(enc.blob)
    assert header.meta, "the binary contexts should be on"
    assert create("mix").encode(data).blob == enc.blob
    assert create("mix").decode(enc.blob) == data
    assert enc.bits < 0.85 * create("mix:binary=false").encode(data).bits


def _records(n: int, seed: int) -> bytes:
    """A table of 24-byte records: a counter, a slowly moving int32, a float64 and a tag."""
    rng = np.random.default_rng(seed)
    rec = np.zeros(n, dtype=[("i", "<u4"), ("v", "<i4"), ("x", "<f8"), ("t", "S8")])
    rec["i"] = np.arange(n)
    rec["v"] = np.cumsum(rng.integers(-3, 4, n))
    rec["x"] = np.round(rng.normal(100, 5, n), 2)
    rec["t"] = rng.choice([b"alpha", b"beta", b"gamma"], n)
    return rec.tobytes()


def _raster(width_bytes: int, rows: int, seed: int) -> bytes:
    """A 1-bit raster: random filled rectangles (a fax-like page), packed 8 pixels a byte."""
    rng = np.random.default_rng(seed)
    img = np.zeros((rows, width_bytes * 8), dtype=bool)
    for _ in range(60):
        y, x = rng.integers(0, rows), rng.integers(0, width_bytes * 8)
        img[y:y + rng.integers(2, 40), x:x + rng.integers(2, 200)] ^= True
    return np.packbits(img, axis=1).tobytes()


def _photo(width: int, rows: int, channels: int, seed: int) -> bytes:
    """An 8-bit (channels=1) or 24-bit (3) raster: smooth shading, a bright box, noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:width]
    img = 120 + 50 * np.sin(x / 23) * np.cos(y / 17) + rng.normal(0, 3, (rows, width))
    img[rows // 3: rows // 2, width // 4: width // 2] = 220
    planes = [img, 0.7 * img + 30, 255 - img][:channels]
    return np.clip(np.stack(planes, 2), 0, 255).astype(np.uint8).tobytes()


def test_detectors_switch_on_for_structure_and_off_on_text() -> None:
    shape = detect_shape(np.frombuffer(_records(4000, 1), dtype=np.uint8))
    assert shape.sparse and shape.record == 24
    assert detect_shape(np.frombuffer(_raster(90, 600, 2), dtype=np.uint8)).record == 90
    gray = detect_shape(np.frombuffer(_photo(300, 200, 1, 6), dtype=np.uint8))
    assert (gray.row, gray.pixel) == (300, 1)
    rgb = detect_shape(np.frombuffer(_photo(250, 150, 3, 7), dtype=np.uint8))
    assert (rgb.row, rgb.pixel, rgb.record) == (750, 3, 3)
    for name in ("alice29.txt", "lcet10.txt", "fields.c", "cp.html", "xargs.1"):
        text = np.frombuffer((CANTERBURY / name).read_bytes(), dtype=np.uint8)
        assert detect_shape(text) == Shape(), name
    # on text the stream is what it was: no meta, the same bits as without the detectors
    data = (CANTERBURY / "grammar.lsp").read_bytes()
    on = container.unwrap(create(SMALL).encode(data).blob)
    off = container.unwrap(create(f"{SMALL},binary=false").encode(data).blob)
    assert on[0].meta == b"" and on[1] == off[1]


@pytest.mark.parametrize("make", [lambda: _records(3000, 3), lambda: _raster(64, 400, 4),
                                  lambda: _photo(200, 150, 1, 8), lambda: _photo(150, 100, 3, 9)])
def test_binary_contexts_help_where_detected(make) -> None:
    data = make()
    on = create("mix:mem=20").encode(data)  # room for the extra contexts (2^16 B would thrash)
    assert create("mix:mem=20").decode(on.blob) == data
    assert on.bits < 0.96 * create("mix:mem=20,binary=false").encode(data).bits


def test_corrupt_binary_meta_is_one_clear_error() -> None:
    data = _records(500, 5)
    comp = create(SMALL)
    header, payload = container.unwrap(comp.encode(data).blob)
    assert header.meta == detect_shape(np.frombuffer(data, dtype=np.uint8)).meta() != b""
    for meta in (b"\x00\x00\x00\x00", b"\x07\x18\x00\x00", b"\x0a\x18\x00\x00",
                 b"\x08\x00\x00\x00", b"\x23\x18\x00\x00", b"\x12\x18\x00\x00", b"\x05\x00\x00\x00\x18\x00\x07",
                 b"\x04\x00\x00\x00\x01\x00\x01", b"\x03\x01\x00\x00",
                 b"\x01\x18\x00\x00", b"\x03\xff\xff\xff", b"\x03\x18\x00", b"\x01"):
        blob = container.wrap(comp.spec, data, payload, meta)
        with pytest.raises(CorruptStreamError, match="mix: corrupt stream"):
            comp.decode(blob)
    blob = container.wrap(f"{SMALL},binary=false", data, payload, header.meta)
    with pytest.raises(CorruptStreamError, match="binary=false"):
        create(f"{SMALL},binary=false").decode(blob)


def _x86(n: int, seed: int) -> bytes:
    """Machine-code-like bytes: random instruction bytes with calls (E8 + a relative address)
    to 40 function entry points from many places, as a linker lays them out."""
    rng = np.random.default_rng(seed)
    buf = bytearray(rng.integers(0, 256, n, dtype=np.uint8).tobytes())
    entries = rng.integers(0, n, 40)
    for pos in sorted(rng.choice(n - 5, n // 40, replace=False)):
        rel = int(rng.choice(entries)) - (int(pos) + 5)
        buf[pos:pos + 5] = b"\xe8" + rel.to_bytes(4, "little", signed=True)
    return bytes(buf)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([0x00, 0xE8, 0xE9, 0xFF, 0x12, 0x80]) | st.integers(0, 255),
                max_size=300))
def test_e8e9_is_exactly_undone(values: list[int]) -> None:
    buf = np.array(values, dtype=np.uint8)
    fwd = buf.copy()
    mix.e8e9(fwd, True)
    back = fwd.copy()
    mix.e8e9(back, False)
    assert np.array_equal(back, buf)


def test_x86_code_is_detected_and_transformed(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _x86(60000, 3)
    shape = detect_shape(np.frombuffer(data, dtype=np.uint8))
    assert shape.x86 and shape.meta()[0] & 16
    on = create("mix").encode(data)
    assert create("mix").decode(on.blob) == data
    assert Shape.read(container.unwrap(on.blob)[0].meta, len(data)) == shape
    monkeypatch.setattr(mix, "x86_calls", lambda buf: False)
    off = create("mix").encode(data)
    assert on.bits < 0.98 * off.bits
    for name in ("kennedy.xls", "ptt5", "sum", "alice29.txt"):
        data = np.frombuffer((CANTERBURY / name).read_bytes(), dtype=np.uint8)
        assert not mix.x86_calls(data), name


OLD_RGB = Path(__file__).resolve().parent / "data" / "mix-v1-rgb.mix"


def test_stream_written_before_the_lean_set_still_decodes() -> None:
    """tests/data/mix-v1-rgb.mix: `_photo(100, 40, 3, 13)` coded with mix:mem=16 by the code
    before the lean set (meta flags 7: sparse, record 3, raster 300 x 3, full context set).
    It decodes with the full set; read as the lean set (flag 8 added) it does not."""
    blob = OLD_RGB.read_bytes()
    header, payload = container.unwrap(blob)
    assert header.meta[0] == 7
    comp = create(SMALL)
    digest = "ef78732fc2d7cd9bc0d4858ee01434878fb0f711a5e18d66e07124570800583e"
    assert hashlib.sha256(comp.decode(blob)).hexdigest() == digest
    data = _photo(100, 40, 3, 13)
    lean_meta = bytes([header.meta[0] | 8]) + header.meta[1:]
    with pytest.raises(CorruptStreamError):
        comp.decode(container.wrap(comp.spec, data, payload, lean_meta))
    new = container.unwrap(comp.encode(data).blob)
    assert new[0].meta == lean_meta and new[1] != payload


def test_lean_set_leaves_out_contexts_only_on_binary_data() -> None:
    orders = [0, 1, 2, 3, 4, 6, 8]
    full = Shape(True, 3, 300, 3)
    lean = full._replace(lean=True)
    assert len(mix.context_codes(orders, True, full)) == 7 + 6 + 6 + 6
    assert mix.context_codes(orders, True, lean) == [0, 1, 2, 4, 6, 8, *mix.SPARSE,
                                                     *mix.RECORD, *mix.IMAGE_LEAN]
    assert 3 in mix.context_codes([1, 3, 5], True, lean)  # order 3 only goes between 2 and 4
    assert mix.context_codes(orders, True, Shape()) == [*orders, -1, -2, -3]
    data = np.frombuffer(_records(2000, 2), dtype=np.uint8)
    assert detect_shape(data).lean
    assert Shape.read(detect_shape(data).meta(), data.size) == detect_shape(data)


# ----------------------------------------------------------------- lockstep streams

@pytest.mark.parametrize("b", [2, 3, 16])
def test_streams_round_trip_ragged(b: int) -> None:
    data = (CANTERBURY / "xargs.1").read_bytes()[: 1000 + b - 1]  # ragged: n mod B != 0
    comp = create(f"{SMALL},streams={b}")
    enc = comp.encode(data)
    assert enc.extras["streams"] == b
    assert comp.decode(enc.blob) == data
    assert decode_bytes(enc.blob) == data
    seg = enc.extras["segments"]
    assert sum(s["bytes"] for s in seg) == len(data)
    assert sum(s["bits"] for s in seg) == pytest.approx(enc.bits_ideal, rel=1e-12)
    assert create(f"{SMALL},streams={b}").encode(data[:5]).extras["streams"] == 5 if b > 5 else b


def test_streams_share_the_match_model() -> None:
    """Stream 1 holds a copy of stream 0's bytes: the one match table finds them as soon as
    stream 0 has coded them, so the copy costs little (random bytes: nothing else predicts)."""
    x = np.random.default_rng(3).integers(0, 256, 20000, dtype=np.uint8).tobytes()
    one = create("mix:mem=18").encode(x).bits
    two = create("mix:mem=18,streams=2").encode(x + x)
    assert two.bits < 1.15 * one, (two.bits, one)
    assert create("mix:mem=18,streams=2").decode(two.blob) == x + x


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(st.binary(min_size=1, max_size=24), min_size=1, max_size=6),
       reps=st.integers(1, 12), b=st.sampled_from([2, 3, 7]))
def test_streams_hypothesis_round_trip(parts: list[bytes], reps: int, b: int) -> None:
    """Repeats in and across streams: matches may point at bytes that are not coded yet; the
    encoder must not use them (the decoder would not have them)."""
    data = b"".join(parts) * reps + b"".join(reversed(parts)) * reps
    comp = _HYPO_STREAMS[b]
    assert comp.decode(comp.encode(data).blob) == data


_HYPO_STREAMS = {b: create(f"mix:mem=12,streams={b}") for b in (2, 3, 7)}


def test_stream_limits() -> None:
    with pytest.raises(UsageError, match="per-stream twin"):
        create("mix:orders=0-12,streams=2")
    assert create("mix:orders=0-12").decode(create("mix:orders=0-12").encode(b"xy" * 50).blob)


@pytest.mark.parametrize("seed", [0, 1])
def test_row_width_is_the_mean_absolute_difference_it_documents(seed: int) -> None:
    """The compiled kernel against numpy's formula, distance by distance: a raster's row and
    noise alike (the figures decide the stream's meta, so they must not move)."""
    rng = np.random.default_rng(seed)
    raster = np.frombuffer(_photo(300, 200, 1, 6), dtype=np.uint8)
    for buf in (raster, rng.integers(0, 256, 20_000, dtype=np.uint8)):
        top = 300
        x = buf[:8192 + top]
        want = [np.abs(x[r:].astype(np.int16) - x[:-r]).mean() for r in range(1, top + 1)]
        assert mix.mean_abs_diffs(x, top).tolist() == want
    width, ratio = mix.row_width(raster)
    assert width == 300 and ratio < 0.3
