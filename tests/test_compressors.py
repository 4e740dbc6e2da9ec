"""Every registered compressor, generated from the registry: a newly registered one gets these
tests without being listed anywhere.

For each name: round trips of the edge inputs (label coders: small labelled datasets passed as
side information); determinism (two encodes give the same stream); a small fuzz (truncated and
bit-flipped streams give the exact input or an `MdlbenchError`, never other output or another
exception); and self-description (issue #10): a stream written at non-default parameters
decodes from the stream alone, and a classical codec's raw output decodes with a decompressor
built from its default spec, since a run's `bits` count only that raw stream.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from mdlbench import api, spec
from mdlbench.coding import container
from mdlbench.compressors import REGISTRY, Compressor, Given, create
from mdlbench.datasets.labelled import LabelledData
from mdlbench.errors import MdlbenchError, UsageError

NAMES = sorted(n for n in REGISTRY if n != "hf" or importlib.util.find_spec("transformers"))

FAST = {
    "mix": "mem=16",
    "lstm": "hidden=8,embed=4,streams=64,train_every=4",
    "transformer": "layers=1,dim=16,heads=2,context=8,streams=64,train_every=4",
    "ensemble": "of=kt[order=1]+lstm[hidden=8;embed=4;train_every=4],streams=64",
    "variational": "context=1,hidden=2,steps=3,samples=2,wbits=6",
    "vtwopart": "context=1,hidden=2,steps=3,samples=2,wbits=6",
    "preq": "epochs=3",
    "twopart": "epochs=3",
}
"""Parameters that keep slow defaults quick (the same code paths, smaller models)."""

OTHER = {
    "zstd": "level=19,long=27",
    "brotli": "quality=5,lgwin=16",
    "xz": "preset=1,extreme=true",
    "bz2": "level=1",
    "zlib": "level=1",
    "lz4": "level=9",
    "ppmd": "order=8,mem=64,variant=H",
    "zpaq": "level=2",
    "kt": "order=3,alpha=0.05,streams=4",
    "snml": "order=1,alphabet=256",
    "mix": "orders=1-3+5,word=false,match=false,lr=8",
    "lstm": "layers=2,lr=0.01,seed=3,coder=ans",
    "transformer": "heads=4,context=4,seed=2,coder=ans",
    "ensemble": "of=kt[order=1]+mix[mem=12],switch=0,streams=4",
    "preq": "blocks=voita,model=mlp,hidden=8,seed=2",
    "twopart": "q=6,seed=1",
    "variational": "prior=gaussian,seed=4,wbits=5",
    "vtwopart": "components=3,seed=1,wbits=0",
}
"""Non-default parameters that the decoder must learn from the stream. A name missing here
gets one derived from its declared parameters (`_derived`)."""
OTHER["hf"] = "chunk=200,context=48,stride=16,coder=ans"


@pytest.fixture(autouse=True, scope="module")
def _hf_model(request: pytest.FixtureRequest) -> None:
    """hf needs a model: the session's tiny one (tests/conftest.py), in small chunks coded side
    by side so the many round trips here stay quick."""
    if "hf" in NAMES:
        FAST["hf"] = f"model={request.getfixturevalue('tiny_lm')},chunk=256,batch=64"

SAMPLE = b"the quick brown fox jumps over the lazy dog. " * 30 + bytes(range(256))

_rng = np.random.default_rng(0)
LABELLED = {
    "one": LabelledData(_rng.standard_normal((1, 2)), np.array([1]), 2),
    "two": LabelledData(_rng.standard_normal((2, 3)), np.array([0, 1]), 2),
    "absent_class": LabelledData(_rng.standard_normal((5, 2)), np.array([2, 2, 0, 2, 0]), 3),
    "forty": LabelledData(_rng.standard_normal((40, 3)), _rng.integers(0, 7, 40), 7),
}
"""Label coders' edge cases: fewer labels than a first block, classes absent from a prefix."""


def _merge(name: str, *parts: str) -> str:
    kv: dict[str, str] = {}
    for part in parts:
        kv.update(dict(p.split("=", 1) for p in part.split(",") if p))
    return name + (":" + ",".join(f"{k}={v}" for k, v in kv.items()) if kv else "")


def _candidates(p) -> list:
    if p.type is bool:
        return [not p.default]
    if p.choices is not None:
        return [c for c in p.choices if c != p.default]
    if p.type is int:
        return [p.default + 1, p.default - 1]
    if p.type is float:
        return [p.default * 2, p.default / 2] if p.default else [0.5]
    return []


def _derived(name: str) -> str:
    """A valid spec that differs from FAST in one coding parameter (where the hardware knobs
    `device` and `threads` are not coding parameters)."""
    cls = REGISTRY[name]
    for p in cls.params:
        if p.name in ("device", "threads"):
            continue
        for value in _candidates(p):
            text = _merge(name, FAST.get(name, ""), f"{p.name}={spec_value(value)}")
            try:
                if create(text).spec != create(_merge(name, FAST.get(name, ""))).spec:
                    return text
            except UsageError:
                continue
    return _merge(name, FAST.get(name, ""))


def spec_value(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def fast(name: str) -> str:
    return _merge(name, FAST.get(name, ""))


def other(name: str) -> str:
    return _merge(name, FAST.get(name, ""), OTHER[name]) if name in OTHER else _derived(name)


def needs_side(name: str) -> bool:
    """Label coders refuse to code without a labelled dataset's inputs. (A coder that cannot
    be built without a parameter, hf without its model, is not one of them.)"""
    try:
        comp = REGISTRY[name]()
    except UsageError:
        return False
    try:
        comp.check_side(None)
    except UsageError:
        return True
    return False


def _decode_alone(blob: bytes, side: LabelledData | None) -> bytes:
    """What `mdlbench decode` does: build the decoder from the spec inside the stream (label
    coders also get their dataset's inputs, which no stream carries)."""
    if side is None:
        return api.decode_bytes(blob)
    return create(container.unwrap(blob)[0].spec).decode(blob, Given(side=side))


def _sample(name: str) -> tuple[bytes, LabelledData | None]:
    if needs_side(name):
        lab = LABELLED["forty"]
        return lab.y.tobytes(), lab
    return SAMPLE, None


# ----------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", [n for n in NAMES if not needs_side(n)])
def test_edge_inputs_round_trip(name: str, edge_input: bytes) -> None:
    data = edge_input
    comp = create(fast(name))
    blob = comp.compress(data)
    if comp.self_describing:
        assert api.decode_bytes(blob) == data
    else:
        assert comp.decompress(blob) == data
        assert api.decode_bytes(api.encode_bytes(comp.spec, data)) == data


@pytest.mark.parametrize("name", [n for n in NAMES if needs_side(n)])
@pytest.mark.parametrize("case", sorted(LABELLED))
def test_labelled_edge_cases_round_trip(name: str, case: str) -> None:
    lab = LABELLED[case]
    comp = create(fast(name))
    blob = comp.encode(lab.y.tobytes(), Given(side=lab)).blob
    assert comp.decode(blob, Given(side=lab)) == lab.y.tobytes()


@pytest.mark.parametrize("name", NAMES)
def test_same_input_same_stream(name: str) -> None:
    data, side = _sample(name)
    a = create(fast(name)).encode(data, Given(side=side))
    b = create(fast(name)).encode(data, Given(side=side))
    assert a.blob == b.blob and a.bits_ideal == b.bits_ideal


# ----------------------------------------------------------------------------- damaged streams


def _mutations(blob: bytes, seed: int) -> list[bytes]:
    """Truncations (inside the header and the payload) and single bit flips, half of them in
    the last half of the stream, where the payload is."""
    rng = np.random.default_rng(seed)
    n = len(blob)
    cuts = sorted({c for c in (0, 1, 3, 7, n // 4, n // 2, n - 5, n - 1) if 0 <= c < n})
    out = [blob[:c] for c in cuts]
    positions = np.concatenate([rng.integers(0, n, 8), rng.integers(n // 2, n, 8)])
    for pos in positions:
        bad = bytearray(blob)
        bad[int(pos)] ^= 1 << int(rng.integers(0, 8))
        out.append(bytes(bad))
    return out


def _outcome(decode, bad: bytes, data: bytes) -> bool:
    """True if the damage was detected; a decoder that returns output must return the input."""
    try:
        out = decode(bad)
    except MdlbenchError:
        return True
    assert out == data, "a damaged stream decoded to wrong output"
    return False


@pytest.mark.parametrize("name", NAMES)
def test_damaged_streams_raise_or_give_the_input(name: str) -> None:
    data, side = _sample(name)
    blob = api.encode_bytes(fast(name), data) if side is None else \
        create(fast(name)).encode(data, Given(side=side)).blob
    detected = sum(_outcome(lambda b: _decode_alone(b, side), bad, data)
                   for bad in _mutations(blob, seed=len(name)))
    assert detected >= 8  # every truncation at least; most flips


@pytest.mark.parametrize("name", [n for n in NAMES if not REGISTRY[n].self_describing])
def test_damaged_raw_streams_raise_or_decode(name: str) -> None:
    """A classical codec's raw stream has no container CRC: damage may go unseen by formats
    without a checksum, but must never escape as another exception than MdlbenchError."""
    comp = create(name)
    raw = comp.compress(SAMPLE)
    for bad in _mutations(raw, seed=7):
        try:
            assert isinstance(comp.decompress(bad), bytes)
        except MdlbenchError:
            pass


# ----------------------------------------------------------------------------- self-description


def test_every_compressor_has_a_non_default_spec() -> None:
    """The table above, or the derivation for names missing from it, changes a parameter."""
    for name in NAMES:
        if REGISTRY[name].params:
            assert create(other(name)).spec != create(fast(name)).spec, name
            assert create(_derived(name)).spec != create(fast(name)).spec, name


@pytest.mark.parametrize("name", NAMES)
def test_non_default_stream_decodes_alone(name: str) -> None:
    data, side = _sample(name)
    text = other(name)
    blob = api.encode_bytes(text, data) if side is None else \
        create(text).encode(data, Given(side=side)).blob
    assert container.unwrap(blob)[0].spec == create(text).spec
    assert _decode_alone(blob, side) == data


@pytest.mark.parametrize("name", [n for n in NAMES if not REGISTRY[n].self_describing])
def test_raw_stream_decodes_with_the_default_decompressor(name: str) -> None:
    raw = create(other(name)).compress(SAMPLE)
    assert create(name).decompress(raw) == SAMPLE


def test_specs_parse_as_written() -> None:
    for name in NAMES:
        for text in (fast(name), other(name)):
            assert spec.parse(text).name == name


def test_compressor_instances_hold_no_side_state() -> None:
    """validate() checks and stores nothing: two instances of one spec are interchangeable."""
    for name in NAMES:
        comp: Compressor = create(other(name))
        assert set(vars(comp)) == {"config"}, (name, set(vars(comp)))
