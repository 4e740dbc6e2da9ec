"""Every classical codec, generated from the registry (a codec registered tomorrow gets these
tests without being listed): its default round-trips every file of every shipped corpus, a
damaged stream is one clear error, out-of-range parameters are refused, the bits repeat, a
missing binding is one line naming the install command, and `family=` reaches them all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mdlbench import api, spec
from mdlbench.compressors import REGISTRY, create, lookup
from mdlbench.compressors.binding import INSTALL, BindingCodec, installed
from mdlbench.datasets import DATASETS, load
from mdlbench.datasets.shipped import Shipped
from mdlbench.errors import CorruptStreamError, MdlbenchError, UsageError
from mdlbench.harness import grid
from mdlbench.harness.suite import Group

ROOT = Path(__file__).resolve().parents[1]
CODECS = sorted(n for n, cls in REGISTRY.items()
                if cls.family == "classical" or cls.__module__ == "mdlbench.compressors.classical")
"""The classical family, and PPMd and ZPAQ (statistical, but library codecs like the rest)."""
SHIPPED = sorted(n for n, cls in DATASETS.items() if issubclass(cls, Shipped))
SMALL = 40_000
"""Files up to this size, and ptt5 (where pyppmd's one-call encoder lost a byte), make the
default run's subset; the slow test codes every file."""


def _files(fast: bool) -> list[tuple[str, bytes]]:
    parts = [(f"{n}/{f}", b) for n in SHIPPED for f, b in load(n).parts]
    return [(f, b) for f, b in parts if not fast or len(b) <= SMALL or f.endswith("/ptt5")]


def _round_trip(name: str, fast: bool) -> None:
    comp = create(name)
    for f, data in _files(fast):
        blob = comp.compress(data)
        assert comp.decompress(blob) == data, (name, f)
        assert comp.decompress_bounded(blob, len(data)) == data, (name, f)


def test_shipped_corpora_are_found() -> None:
    assert {"canterbury", "bible"} <= set(SHIPPED)
    assert any(f.endswith("/ptt5") for f, _ in _files(fast=True))


@pytest.mark.parametrize("name", CODECS)
def test_default_round_trips_small_shipped_files_and_ptt5(name: str) -> None:
    _round_trip(name, fast=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", CODECS)
def test_default_round_trips_every_shipped_file(name: str) -> None:
    _round_trip(name, fast=False)


def test_ppmd_default_round_trips_ptt5() -> None:
    """issue #25: `-c ppmd` (variant I) failed its own round trip on ptt5."""
    data = load("canterbury:file=ptt5").parts[0][1]
    for text in ("ppmd", "ppmd:order=6,mem=256"):
        comp = create(text)
        assert comp.decompress(comp.compress(data)) == data


SAMPLE = b"".join(bytes([i % 251, i % 7, 65 + i % 26]) for i in range(4000)) + b"tail " * 300


@pytest.mark.parametrize("name", CODECS)
def test_damaged_stream_is_one_clear_error(name: str) -> None:
    """Through mdlbench's container (what `decode` reads): a flipped byte in the codec's
    stream, or a cut, is a CorruptStreamError of one line; the CRC-32 over the output makes
    that certain whichever byte it is."""
    blob = api.encode_bytes(name, SAMPLE)
    for pos in (len(blob) // 2, len(blob) - 9):
        bad = bytearray(blob)
        bad[pos] ^= 0x5A
        for damaged in (bytes(bad), blob[:pos]):
            with pytest.raises(MdlbenchError) as e:
                api.decode_bytes(damaged)
            msg = str(e.value)
            assert msg and "\n" not in msg and len(msg) < 400


@pytest.mark.parametrize("name", CODECS)
def test_cut_raw_stream_is_an_error_or_the_input(name: str) -> None:
    """The codec's own stream, its last byte cut: an MdlbenchError, or the input itself,
    never other bytes (the identity codec, whose stream is its input, has nothing to check)."""
    comp = create(name)
    if comp.compress(b"ab") == b"ab":
        pytest.skip("the stream is the input: nothing in it to check")
    raw = comp.compress(SAMPLE)
    for cut in (raw[:-1], raw[: len(raw) // 2]):
        try:
            out = comp.decompress(cut)
        except MdlbenchError as e:
            assert "\n" not in str(e)
            continue
        assert out == SAMPLE, f"{name}: a cut stream decoded to other bytes"


@pytest.mark.parametrize("name", CODECS)
def test_bounded_decoder_refuses_more_than_the_claimed_length(name: str) -> None:
    """`decode` passes the container's length: a stream that holds more is damage."""
    comp = create(name)
    blob = comp.compress(SAMPLE)
    assert comp.decompress_bounded(blob, len(SAMPLE)) == SAMPLE
    with pytest.raises(CorruptStreamError):
        comp.decompress_bounded(blob, len(SAMPLE) - 1)


def _out_of_range(p) -> list[str]:
    if p.choices is not None:
        return ["no-such-choice"]
    bad = []
    if p.type in (int, float):
        if p.min is not None:
            bad.append(str(p.type(p.min) - 1))
        if p.max is not None:
            bad.append(str(p.type(p.max) + 1))
        bad.append("x")
    if p.type is bool:
        bad.append("maybe")
    return bad


@pytest.mark.parametrize("name", CODECS)
def test_out_of_range_parameters_are_refused(name: str) -> None:
    for p in REGISTRY[name].params:
        for value in _out_of_range(p):
            with pytest.raises(UsageError, match=p.name):
                create(f"{name}:{p.name}={value}")
    with pytest.raises(UsageError, match="unknown parameter"):
        create(f"{name}:no_such_parameter=1")


@pytest.mark.parametrize("name", CODECS)
def test_bits_repeat(name: str) -> None:
    data = load("canterbury:file=kennedy.xls,head=60000").parts[0][1]
    assert create(name).compress(data) == create(name).compress(data)


@pytest.mark.parametrize("text", [
    "zstd:level=-5", "zstd:level=22", "zstd:wlog=18", "zstd:level=19,long=27,dict=4096",
    "zstd:dict=16384", "xz:filters=delta:4+lzma2", "xz:filters=x86+lzma2,lc=0,lp=2,pb=0",
    "xz:dict=65536,preset=9,extreme=true", "blosc2:typesize=4,filter=bitshuffle,codec=lz4",
    "lz4-block:level=12", "lz4-block:accel=9", "libdeflate:level=12", "bzip3:block=1",
    "kanzi:level=9", "zopfli:iterations=2"])
def test_settings_round_trip_and_decode_with_the_default_decoder(text: str) -> None:
    data = load("canterbury:file=kennedy.xls,head=120000").parts[0][1]
    blob = create(text).compress(data)
    assert create(spec.parse(text).name).decompress(blob) == data
    assert api.decode_bytes(api.encode_bytes(text, data)) == data


def test_zstd_dictionary_is_in_the_stream() -> None:
    """dict=K: the stream is the dictionary's length and bytes, then the frame."""
    import zstandard

    data = load("canterbury:file=alice29.txt").parts[0][1]
    blob = create("zstd:dict=8192").compress(data)
    from mdlbench.coding import varint

    n, pos = varint.decode(blob, 0)
    assert 256 <= n <= 8192 and blob[pos + n: pos + n + 4] == b"\x28\xb5\x2f\xfd"
    d = zstandard.ZstdCompressionDict(blob[pos:pos + n])
    assert zstandard.ZstdDecompressor(dict_data=d).decompress(blob[pos + n:]) == data


def test_zstd_dictionary_of_a_per_file_dataset_is_trained_on_its_files_and_counted_once(
        ) -> None:
    """--per-file with dict=K: one dictionary trained on all the files, stored once as a part
    of its own and counted in the bits; each file is a plain frame naming it (as `zstd -D`
    writes), which decodes with the dictionary's bytes and is refused without them."""
    import zstandard

    from mdlbench.coding import varint
    from mdlbench.harness.runner import SHARED_PART

    [rec] = api.run(["canterbury"], ["zstd:level=3,dict=4096"], per_file=True,
                    results_dir=None, progress=False, repeat=1)
    assert rec.verified and rec.parts[0].name == SHARED_PART and rec.parts[0].size == 0
    assert rec.bits == sum(p.bits for p in rec.parts)
    comp = create("zstd:level=3,dict=4096")
    files = [b for _, b in load("canterbury").parts]
    shared = comp.shared(files)
    assert shared and 256 <= len(shared) <= 4096
    assert rec.parts[0].bits == 8 * (len(varint.encode(len(shared))) + len(shared))
    comp.use_shared(shared)
    blob = comp.compress(files[0])
    assert blob[:4] == b"\x28\xb5\x2f\xfd"  # a plain frame...
    assert zstandard.get_frame_parameters(blob).dict_id == zstandard.ZstdCompressionDict(
        shared).dict_id() != 0  # ...that names the dictionary
    assert rec.parts[1].bits == 8 * len(blob)  # what the run counted for alice29.txt
    reader = create("zstd:level=3,dict=4096")
    reader.use_shared(bytes(shared))
    assert reader.decompress(blob) == files[0]
    with pytest.raises(CorruptStreamError):
        create("zstd:level=3,dict=4096").decompress(blob)


def test_defaults_keep_their_bits() -> None:
    """The new parameters leave the old specs' streams as they were (the gate's baseline)."""
    import lzma

    import zstandard

    data = load("canterbury:file=fields.c").parts[0][1]
    assert create("xz:preset=9,extreme=true").compress(data) == lzma.compress(
        data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=9 | lzma.PRESET_EXTREME)
    assert create("zstd:level=19").compress(data) == zstandard.ZstdCompressor(
        level=19).compress(data)


# ----------------------------------------------------------------------------- reaching them


def test_family_expands_to_every_installed_classical_codec() -> None:
    names = [s.name for s in lookup.expand("family=classical")]
    want = sorted(n for n, c in REGISTRY.items() if c.family == "classical" and installed(c))
    assert names == want and {"copy", "zlib", "zstd"} <= set(names)
    with pytest.raises(UsageError, match="families"):
        lookup.expand("family=nonesuch")
    # a grid counts its cells before building anything: `-c family=classical` is one per member
    two = Group(datasets=["canterbury", "bible"], compressors=["family=classical", "kt"])
    assert grid.size([two]) == 2 * (len(want) + 1)


BINDINGS = sorted(n for n, c in REGISTRY.items() if issubclass(c, BindingCodec))

_CHILD = """
import json, sys
for m in sys.argv[1].split(","):
    sys.modules[m] = None  # as if the binding were not installed
from mdlbench.compressors import REGISTRY, create
from mdlbench.errors import UsageError
out = {}
for name in sys.argv[2].split(","):
    try:
        create(name)
        out[name] = None
    except UsageError as e:
        out[name] = str(e)
print(json.dumps(out))
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _blocked() -> str:
    return ",".join(sorted({m for n in BINDINGS for m in REGISTRY[n].binding}
                           | {m.split(".")[0] for n in BINDINGS for m in REGISTRY[n].binding}))


def test_missing_binding_is_one_line_naming_the_extra() -> None:
    assert len(BINDINGS) >= 10
    p = subprocess.run([sys.executable, "-c", _CHILD, _blocked(), ",".join(BINDINGS)],
                       capture_output=True, text=True, env=_env(), timeout=300)
    assert p.returncode == 0, p.stderr
    for name, msg in json.loads(p.stdout).items():
        assert msg and msg.startswith(f"{name}: ") and msg.endswith(
            f"not installed: {INSTALL}"), (name, msg)


def test_cli_run_of_a_missing_codec_exits_2_without_traceback(tmp_path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"abc" * 100)
    code = ("import sys\nfor m in sys.argv[1].split(','): sys.modules[m] = None\n"
            "from mdlbench.cli import main\nmain(sys.argv[2:])")
    p = subprocess.run([sys.executable, "-c", code, _blocked(), "run", str(f), "-c", "zopfli",
                        "--results", str(tmp_path / "r"), "-q"],
                       capture_output=True, text=True, env=_env(), timeout=300)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and f"not installed: {INSTALL}" in lines[0], p.stderr
    assert "Traceback" not in p.stderr
    q = subprocess.run([sys.executable, "-c", code, _blocked(), "list", "--family", "classical",
                        "--json"], capture_output=True, text=True, env=_env(), timeout=300)
    assert q.returncode == 0, q.stderr
    rows = {r["name"]: r for r in json.loads(q.stdout)}
    assert not rows["zopfli"]["installed"] and rows["zlib"]["installed"]
    assert rows["zopfli"]["version"] == "not installed" and rows["zopfli"]["library"] == "zopfli"
