"""The container fuzzed: whatever bytes `decode` is given (random, or a real stream with bytes
flipped, cut, inserted, or a header forged to pass its own check), it returns the original or
raises an MdlbenchError, quickly; it never returns other bytes, raises anything else, or
allocates what a header merely claims. Coders covered: every classical codec and kt."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from special_files import hostile

from mdlbench import api
from mdlbench.coding import container
from mdlbench.errors import MdlbenchError

DATA = b"It was the best of times, it was the worst of times; " * 40 + bytes(range(256))
SPECS = ("zlib", "bz2", "xz", "zstd", "brotli", "lz4", "ppmd:variant=H", "ppmd", "kt")
STREAMS = {s: api.encode_bytes(s, DATA) for s in SPECS}
FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def outcome(blob: bytes) -> bytes | None:
    """What decoding gives: the bytes, or None for a clean MdlbenchError (anything else, a
    traceback, fails the test). Timed: a forged length must not buy a long decode."""
    t = time.perf_counter()
    try:
        return api.decode_bytes(blob)
    except MdlbenchError:
        return None
    finally:
        assert time.perf_counter() - t < 20, "a damaged stream took long to refuse"


@FAST
@given(st.binary(max_size=200))
def test_random_bytes_are_refused(blob):
    assert outcome(blob) in (None, b"")  # b"": a (random) valid empty stream is possible


@FAST
@given(st.sampled_from(SPECS), st.data())
def test_damaged_real_streams_never_decode_to_other_bytes(spec, data):
    blob = bytearray(STREAMS[spec])
    for _ in range(data.draw(st.integers(1, 4))):
        how = data.draw(st.sampled_from(["flip", "set", "cut", "insert", "drop"]))
        i = data.draw(st.integers(0, len(blob) - 1))
        if how == "flip":
            blob[i] ^= 1 << data.draw(st.integers(0, 7))
        elif how == "set":
            blob[i] = data.draw(st.integers(0, 255))
        elif how == "cut":
            del blob[i:]
        elif how == "insert":
            blob[i:i] = data.draw(st.binary(min_size=1, max_size=8))
        else:
            del blob[i]
        if not blob:
            break
    assert outcome(bytes(blob)) in (None, DATA)


@FAST
@given(spec=st.sampled_from(SPECS + ("zstd:long=31", "ppmd:mem=2047", "nosuch", "kt:alpha=nan")),
       length=st.one_of(st.integers(0, 1 << 16), st.integers(0, 1 << 62)),
       meta=st.binary(max_size=4), payload=st.binary(max_size=64), real=st.booleans())
@example(spec="ppmd", length=2**31 - 1, meta=b"", payload=b"", real=True)  # C int overflow
def test_forged_headers_are_refused_fast(spec, length, meta, payload, real):
    """A header that passes its own check but lies (length, meta, spec), over a random payload
    or the real payload of another length."""
    if real and spec in STREAMS:
        payload = container.unwrap(STREAMS[spec])[1]
    assert outcome(hostile.forged(spec, length, payload, meta)) in (None, b"")


def test_the_real_streams_decode():
    for spec, blob in STREAMS.items():
        assert api.decode_bytes(blob) == DATA, spec


@pytest.mark.parametrize("spec", SPECS)
def test_truncations_are_refused(spec):
    blob = STREAMS[spec]
    for n in range(0, len(blob), max(1, len(blob) // 300)):
        assert outcome(blob[:n]) is None
