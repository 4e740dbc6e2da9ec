"""The coding core (constriction wrappers, the ANS stack), the container, the shared step loop
and the lockstep streams."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from mdlbench import api
from mdlbench.coding import container, core, streams, varint
from mdlbench.coding.loop import code_steps
from mdlbench.compressors import create
from mdlbench.compressors.kt import KTStepModel
from mdlbench.errors import CorruptStreamError, MdlbenchError

CODERS = ("range", "ans")


def _realistic(k: int, n: int, seed: int, n_dists: int = 32, alpha: float = 0.5):
    """n rows drawn from a pool of Dirichlet(alpha) distributions; symbols drawn from each row."""
    rng = np.random.default_rng(seed)
    pool = rng.dirichlet(np.full(k, alpha), size=n_dists)
    idx = rng.integers(0, n_dists, size=n)
    cum = np.cumsum(pool, axis=1)
    u = rng.random(n)
    sym = np.minimum((cum[idx] < u[:, None]).sum(axis=1), k - 1) if k <= 256 else None
    if sym is None:  # large K: per-row searchsorted keeps memory at (n_dists, K)
        sym = np.array([min(np.searchsorted(cum[i], v, side="right"), k - 1)
                        for i, v in zip(idx, u, strict=True)])
    return pool, idx, sym.astype(np.int64)


@pytest.mark.parametrize("coder", CODERS)
@pytest.mark.parametrize("k", [2, 256, 65536])
def test_round_trip_batched_and_stepwise(coder: str, k: int) -> None:
    n = 40 if k == 65536 else 3000
    pool, idx, sym = _realistic(k, n, seed=k)
    enc = core.Encoder(coder)
    for a in range(0, n, 1000):  # several encode calls, as model coders make them
        enc.encode(sym[a:a + 1000], pool[idx[a:a + 1000]])
    payload = enc.finish()
    assert enc.count == n
    assert np.array_equal(core.Decoder(payload, coder).decode(pool[idx]), sym)
    dec = core.Decoder(payload, coder)
    step = np.array([dec.decode(pool[idx[t]])[0] for t in range(n)])
    assert np.array_equal(step, sym)


@pytest.mark.parametrize("coder", CODERS)
@pytest.mark.parametrize("k,alpha", [(2, 0.5), (2, 0.05), (256, 0.5), (256, 0.1)])
def test_overhead_on_realistic_distributions(coder: str, k: int, alpha: float) -> None:
    """bits <= bits_ideal (1 + 1e-4) + 64 for N = 1e5 symbols drawn from their distributions."""
    n, chunk = 100_000, 10_000
    pool, idx, sym = _realistic(k, n, seed=7 * k, alpha=alpha)
    enc = core.Encoder(coder)
    for a in range(0, n, chunk):
        enc.encode(sym[a:a + chunk], pool[idx[a:a + chunk]])
    bits = 8 * len(enc.finish())
    exact = float(-np.log2(pool[idx, sym]).sum())
    assert enc.bits_ideal == pytest.approx(exact, rel=1e-9)
    assert bits <= enc.bits_ideal * (1 + 1e-4) + 64, (bits, enc.bits_ideal)
    assert bits >= enc.bits_ideal - 64  # a real code cannot beat its own model by much


def test_ideal_bits_normalises_rows() -> None:
    probs = np.array([[1.0, 3.0], [2.0, 2.0]])
    assert core.ideal_bits(np.array([1, 0]), probs) == pytest.approx(-np.log2(0.75) + 1.0)


def test_encoder_rejects_bad_input() -> None:
    enc = core.Encoder()
    with pytest.raises(ValueError):
        enc.encode(np.array([2]), np.ones((1, 2)))
    with pytest.raises(ValueError):
        enc.encode(np.array([0, 1]), np.ones((1, 2)))
    with pytest.raises(MdlbenchError):
        core.Encoder("huffman")


# -- container ---------------------------------------------------------------------------------

DATA = b"the quick brown fox jumps over the lazy dog. " * 40 + bytes(range(256))


@pytest.fixture(params=["kt:order=2", "kt:order=1,streams=4", "zstd:level=3"])
def stream(request: pytest.FixtureRequest) -> bytes:
    return api.encode_bytes(request.param, DATA)


def test_container_round_trip(stream: bytes) -> None:
    assert api.decode_bytes(stream) == DATA
    header, _ = container.unwrap(stream)
    assert header.length == len(DATA) and header.crc32 == zlib.crc32(DATA)


def test_truncated_streams_raise(stream: bytes) -> None:
    cuts = sorted({*range(0, 40), *range(40, len(stream), max(1, len(stream) // 50))})
    for cut in cuts:
        with pytest.raises(CorruptStreamError):
            api.decode_bytes(stream[:cut])


def test_corrupted_payload_and_checksum_raise(stream: bytes) -> None:
    header, payload = container.unwrap(stream)
    start = len(stream) - len(payload) - 4 - 1 - len(header.meta)  # the CRC's first byte
    rng = np.random.default_rng(1)
    positions = sorted({*range(start, start + 4), *rng.integers(start, len(stream), 25).tolist()})
    for pos in positions:
        for mask in (0x01, 0xFF):
            bad = bytearray(stream)
            bad[pos] ^= mask
            with pytest.raises(CorruptStreamError):
                api.decode_bytes(bytes(bad))


def test_foreign_and_wrong_version_streams_raise(stream: bytes) -> None:
    for blob in (b"", b"MD", b"PK\x03\x04" + stream[4:], b"\x28\xb5\x2f\xfd" + stream[4:],
                 zlib.compress(DATA), b"MDL"):
        with pytest.raises(CorruptStreamError):
            api.decode_bytes(blob)
    for version in (0, 2, 255):
        with pytest.raises(CorruptStreamError, match="version"):
            api.decode_bytes(stream[:3] + bytes([version]) + stream[4:])


def test_length_field_mismatch_raises() -> None:
    blob = api.encode_bytes("kt:order=1", DATA)
    header, payload = container.unwrap(blob)
    s = header.spec.encode()
    for length in (len(DATA) - 1, len(DATA) + 1, len(DATA) // 2, 1):
        # the same payload and CRC under a header that claims another length
        fixed = b"".join([container.MAGIC, bytes([container.VERSION]), varint.encode(len(s)), s,
                          varint.encode(length), header.crc32.to_bytes(4, "little"),
                          varint.encode(len(header.meta)), header.meta, payload])
        with pytest.raises(CorruptStreamError):
            api.decode_bytes(fixed)


def test_stream_from_another_spec_is_refused() -> None:
    blob = create("kt:order=2").compress(DATA)
    with pytest.raises(CorruptStreamError, match="written by"):
        create("kt:order=1").decompress(blob)


# -- the shared step loop -----------------------------------------------------------------------


@pytest.mark.parametrize("coder", CODERS)
def test_code_steps_encoder_and_decoder_agree(coder: str) -> None:
    rng = np.random.default_rng(3)
    steps, streams, k = 700, 3, 5
    sym = (rng.random((steps, streams)) ** 2 * k).astype(np.int64)
    enc = core.Encoder(coder)
    seen: list[int] = []
    code_steps(KTStepModel(k, streams, order=2), steps, encoder=enc, symbols=sym,
               progress=lambda d, n, *bits: seen.append(d))
    payload = enc.finish()
    assert seen[-1] == steps
    out = code_steps(KTStepModel(k, streams, order=2), steps, decoder=core.Decoder(payload, coder))
    assert np.array_equal(out, sym)
    with pytest.raises(ValueError):
        code_steps(KTStepModel(k, streams, order=2), steps)


def test_code_steps_decoding_with_another_model_fails_or_differs() -> None:
    rng = np.random.default_rng(4)
    sym = rng.integers(0, 4, size=(500, 2))
    enc = core.Encoder()
    code_steps(KTStepModel(4, 2, order=1), 500, encoder=enc, symbols=sym)
    payload = enc.finish()
    try:
        out = code_steps(KTStepModel(4, 2, order=0, alpha=3.0), 500,
                         decoder=core.Decoder(payload))
    except CorruptStreamError:
        return
    assert not np.array_equal(out, sym)


# -- the ANS stack (bits-back) ------------------------------------------------------------------


def test_ans_stack_pops_what_was_pushed_last_first() -> None:
    rng = np.random.default_rng(5)
    pool, idx, sym = _realistic(7, 300, seed=5)
    table = rng.dirichlet(np.ones(40))
    fixed = rng.integers(0, 40, 50)
    means, stds = rng.normal(0, 3, 80), rng.uniform(0.5, 4, 80)
    gauss = np.clip(np.round(means + stds * rng.standard_normal(80)), -16, 16).astype(np.int64)
    stack = core.AnsStack()
    stack.push_gaussian(gauss, 16, means, stds)
    stack.push_table(fixed, table)
    stack.push(sym, pool[idx])
    back = core.AnsStack.from_bytes(stack.to_bytes())
    assert np.array_equal(back.pop(pool[idx]), sym)
    assert np.array_equal(back.pop_table(table, 50), fixed)
    assert np.array_equal(back.pop_gaussian(16, means, stds), gauss)
    assert back.num_bits() <= 64  # everything pushed came back off: only the coder's state


def test_ans_stack_draws_from_arbitrary_words_and_pushes_them_back() -> None:
    """Bits-back: popping from random words is sampling; pushing the sample back returns them."""
    words = np.random.default_rng(2).integers(1, 2**32, 8, dtype=np.uint64).astype(np.uint32)
    stack = core.AnsStack(words)
    means, stds = np.zeros(20), np.full(20, 3.0)
    draw = stack.pop_gaussian(16, means, stds)
    assert np.abs(draw).max() <= 16 and len(set(draw.tolist())) > 3
    stack.push_gaussian(draw, 16, means, stds)
    assert np.array_equal(stack.words(), words)


def test_ans_stack_and_encoder_agree() -> None:
    pool, idx, sym = _realistic(5, 400, seed=9)
    enc = core.Encoder("ans")
    enc.encode(sym[:200], pool[idx[:200]])
    enc.encode(sym[200:], pool[idx[200:]])
    stack = core.AnsStack()
    stack.push(sym, pool[idx])
    assert enc.finish() == stack.to_bytes()


def test_ans_stack_refuses_words_no_encoder_writes() -> None:
    with pytest.raises(CorruptStreamError):
        core.AnsStack.from_bytes(b"\x01\x02\x03")
    with pytest.raises(CorruptStreamError):
        core.AnsStack.from_bytes(b"\x05\x00\x00\x00" + bytes(4))  # a last word of zero
    with pytest.raises(CorruptStreamError):
        core.Decoder(bytes(8), "ans")


# -- lockstep streams ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 5, 64, 100, 257])
def test_streams_round_trip_ragged_layouts(n: int) -> None:
    data = bytes((i * i + 3 * i) % 5 for i in range(n))
    b = streams.layout(n, 8)[0]
    code = streams.encode_streams(KTStepModel(5, b, order=1), data, coder="ans",
                                  segment_steps=3)
    assert sum(s["bytes"] for s in code.segments) == n
    assert sum(s["bits"] for s in code.segments) == pytest.approx(code.bits_ideal, rel=1e-12)
    out = streams.decode_streams(KTStepModel(5, b, order=1), code.payload, n, coder="ans")
    assert out == data
    with pytest.raises(ValueError, match="streams"):  # more streams than bytes
        streams.encode_streams(KTStepModel(5, n + 1, order=1), data)
