"""Stated limits, checked before work: input sizes per coder, memory estimates of datasets and
coders, and the claims of a stream's header (its length against the sanity limit, the coder's
bound for the payload, and decoders that stop at that length), so that a forged header fails
fast instead of allocating gigabytes or running for hours."""

from __future__ import annotations

import contextlib
import resource
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import zpaq
from special_files import hostile, one_error_line

import mdlbench
from mdlbench import api, limits
from mdlbench.coding import container, varint
from mdlbench.compressors import REGISTRY, classical, create
from mdlbench.compressors.base import Compressor
from mdlbench.compressors.bounds import check_length
from mdlbench.compressors.kt import KT
from mdlbench.errors import CorruptStreamError, LimitError

ROOT = Path(__file__).resolve().parents[1]


forged = hostile.forged


@contextlib.contextmanager
def address_space(extra: int) -> Iterator[None]:
    """This process limited to `extra` bytes of address space more than it uses now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    now = int(next(ln for ln in Path("/proc/self/status").read_text().splitlines()
                   if ln.startswith("VmSize:")).split()[1]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (now + extra, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def test_available_memory_sees_an_address_space_limit():
    free = limits.available_memory()
    assert free is not None and free > 0
    with address_space(256 << 20):
        assert limits.available_memory() <= 256 << 20
    with pytest.raises(LimitError, match="needs about 1.0 TiB"):
        limits.check_memory(1 << 40, "a test")


def test_a_dataset_generator_that_would_not_fit_is_refused_first(mdl, monkeypatch, tmp_path):
    monkeypatch.setattr(limits, "available_memory", lambda: 1 << 30)
    for spec in ("markov:n=2147483648", "iid:n=2000000000", "copy:n=4000000,len=256",
                 "logistic:n=10000000,d=10000"):
        t = time.perf_counter()
        one_error_line(mdl("run", spec, "-c", "zlib"), needle="refused before allocating")
        assert time.perf_counter() - t < 10  # nothing was generated
    assert mdl("run", "markov:n=1000", "-c", "zlib", "--results", str(tmp_path), "-q").code == 0


def test_a_coder_whose_memory_would_not_fit_is_refused_before_any_cell(mdl, monkeypatch,
                                                                      tmp_path):
    monkeypatch.setattr(limits, "available_memory", lambda: 512 << 20)
    runs = tmp_path / "runs"
    one_error_line(mdl("run", "iid:n=1000", "-c", "zlib", "-c", "ppmd:mem=2047", "--results",
                       str(runs)), needle="ppmd:mem=2047 on iid:n=1000 needs about 2.0 GiB")
    assert not runs.exists()
    one_error_line(mdl("encode", "-c", "xz:preset=9", __file__, str(tmp_path / "o")),
                   needle="needs about")


class TinyZlib(classical.Zlib):
    max_input = 1000
    max_input_why = "a test's limit"


def test_a_coders_input_limit_is_checked_before_any_cell(mdl, monkeypatch, tmp_path):
    monkeypatch.setitem(REGISTRY, "zlib", TinyZlib)
    runs = tmp_path / "runs"
    one_error_line(mdl("run", "iid:n=5000", "-c", "bz2", "-c", "zlib", "--results", str(runs)),
                   needle="5,000 B is over its limit of 1,000 B (a test's limit)")
    assert not runs.exists()
    assert mdl("run", "iid:n=5000", "-c", "zlib", "--chunk-size", "1000", "--results",
               str(runs), "-q").code == 0  # chunks are coded one at a time
    one_error_line(mdl("encode", "-c", "zlib", __file__, str(tmp_path / "o")),
                   needle="over its limit")
    blob = container.wrap("zlib", bytes(2000), zlib.compress(bytes(2000)))
    with pytest.raises(CorruptStreamError, match="claims 2,000 B"):
        api.decode_bytes(blob)


def test_a_header_claiming_too_much_fails_before_decoding():
    with pytest.raises(CorruptStreamError, match="more than the"):
        api.decode_bytes(forged("zlib", 2**60, zlib.compress(b"x")))
    with pytest.raises(CorruptStreamError, match="length field too long"):
        api.decode_bytes(forged("zlib", 2**70, zlib.compress(b"x")))
    with pytest.raises(CorruptStreamError, match="spec in the header"):
        api.decode_bytes(b"MDL\x01" + varint.encode(1 << 20) + bytes(64))


@pytest.mark.parametrize("claimed", [8 << 30, 6])
def test_a_zstd_bomb_allocates_nothing_of_the_kind(claimed):
    blob = forged("zstd", claimed, hostile.zstd_bomb_frame(8 << 30))
    with address_space(1 << 30), pytest.raises(CorruptStreamError):
        api.decode_bytes(blob)


def test_bounded_decoders_stop_at_the_claimed_length():
    data = bytes(1 << 20)
    for spec in ("zlib", "bz2", "xz", "zstd", "brotli", "lz4", "ppmd", "ppmd:variant=H"):
        comp = create(spec)
        blob = comp.compress(data)
        assert comp.decompress_bounded(blob, len(data)) == data
        # (zstd's refuses the 1 MiB window first: it asks for more than 1,000 B could need)
        with pytest.raises(CorruptStreamError, match="more than the 1,000 B|too much memory"), \
                address_space(512 << 20):
            comp.decompress_bounded(blob, 1000)


class BoundedKT(KT):
    """kt with only a declared expansion ratio (the base class's mechanism a coder opts into;
    kt's own bound is tested below)."""

    max_ratio = 1000.0
    length_bound = Compressor.length_bound


def test_a_declared_ratio_bounds_a_forged_length(monkeypatch):
    monkeypatch.setitem(REGISTRY, "kt", BoundedKT)
    blob = forged("kt", 2**31 - 1, bytes(64), b"\x02")
    t = time.perf_counter()
    with pytest.raises(CorruptStreamError, match="hold at most 81,000"):
        api.decode_bytes(blob)
    assert time.perf_counter() - t < 1
    good = create("kt").encode(b"abracadabra" * 500).blob  # a real stream still decodes
    assert api.decode_bytes(good) == b"abracadabra" * 500


def test_a_forged_ppmd_model_size_is_checked_against_memory(monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: 256 << 20)
    head = classical.ppmd_header(6, 2047, "I")
    with pytest.raises(LimitError, match="2047 MB"):
        api.decode_bytes(container.wrap("ppmd", b"x" * 10, head + bytes(8)))


def looping_zpaq_stream() -> bytes:
    """A level-1 zpaq stream with four bytes changed, on which libzpaq (zpaq 0.3.7) loops."""
    data = (ROOT / "datasets" / "canterbury" / "fields.c").read_bytes()[:3000]
    blob = bytearray(zpaq.compress(data, level=1, threads=1))
    if len(blob) != 1958:
        pytest.skip("this zpaq writes another stream; the looping one was found on 0.3.7")
    for i, v in ((148, 24), (748, 48), (808, 77), (1863, 29)):
        blob[i] = v
    return bytes(blob)


def test_a_looping_zpaq_stream_is_stopped_by_its_deadline(monkeypatch):
    monkeypatch.setattr(classical, "ZPAQ_DEADLINE_S", 3.0)
    blob = container.wrap("zpaq:level=1", bytes(3000), looping_zpaq_stream())
    t = time.perf_counter()
    with pytest.raises(CorruptStreamError, match="did not end in 3 s"):
        api.decode_bytes(blob)
    assert time.perf_counter() - t < 30
    good = api.encode_bytes("zpaq:level=1", b"hello zpaq " * 300)  # verified through the child
    assert api.decode_bytes(good) == b"hello zpaq " * 300


def test_the_grid_and_encode_report_limits_as_usage_errors_not_cells(tmp_path, monkeypatch):
    monkeypatch.setitem(REGISTRY, "zlib", TinyZlib)
    with pytest.raises(LimitError):
        mdlbench.run(["iid:n=5000"], ["zlib"], results_dir=tmp_path)
    with pytest.raises(LimitError):
        api.encode_bytes("zlib", bytes(5000))


@pytest.mark.parametrize("spec, low, high", [
    ("lstm", 0.001, 0.1),
    ("lstm:hidden=8192,layers=16", 100, 200),  # 8.3e9 parameters x 16 B
    ("transformer:context=65536", 60, 200),  # the ALiBi tables alone are 5 x 65536^2 floats
])
def test_neural_memory_estimates_count_parameters_and_tables(spec, low, high):
    """Counted on torch's meta device (nothing allocated): large configurations are refused
    before torch tries to allocate them; the defaults stay small."""
    assert low < create(spec).memory_bytes(4_000_000) / 2**30 < high


def test_neural_streams_bound_a_forged_length():
    lstm = create("lstm")
    meta = bytes([0, 1, 0, 0, 0, 0, 255])  # device, threads, fingerprint CRC, alphabet - 1
    assert lstm.length_bound(8, meta) < 20_000_000  # K = 256: >= 2.2e-5 bits a symbol
    assert lstm.length_bound(0, meta[:-1] + b"\x00") == lstm.max_input  # K = 1 costs nothing
    with pytest.raises(CorruptStreamError):
        check_length(lstm, 2**31 - 1, 8, meta)


@pytest.mark.parametrize("spec, data", [
    ("kt:order=0", bytes(200_000) + b"\x01"),  # K = 2, all but one decision at p = 65535
    ("kt:order=3,alphabet=2", bytes(300_000)),
    ("mix:mem=16", bytes(300_000)),  # every decision at the model's largest probability
    ("ensemble:of=kt+mix[mem=16]", bytes(100_000) + b"\x01"),
])
def test_binary_coders_bound_a_forged_length_but_never_an_honest_one(spec, data):
    """The most compressible inputs there are stay inside the stated bound (so no true stream
    is called corrupt), and a forged length far past it fails before decoding."""
    comp = create(spec)
    blob = comp.encode(data).blob
    header, payload = container.unwrap(blob)
    assert header.length <= comp.length_bound(len(payload), header.meta)
    assert comp.decode(blob) == data
    bound = comp.length_bound(len(payload), header.meta)
    assert bound < 2**31 - 1
    with pytest.raises(CorruptStreamError, match="corrupt stream"):
        check_length(comp, 2**31 - 1, len(payload), header.meta)


def test_binary_coders_state_their_memory():
    assert create("mix").memory_bytes(0) > 2**26  # the default 64 MB hash table
    assert create("mix:mem=12").memory_bytes(10**6) < 20 * 2**20
    assert create("kt:order=2,alphabet=4").memory_bytes(0) < 2**20
    both = create("ensemble:of=kt+mix").memory_bytes(10**6)
    assert both >= create("mix").memory_bytes(10**6) + create("kt").memory_bytes(10**6)
