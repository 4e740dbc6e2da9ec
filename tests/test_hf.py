"""`hf:` pretrained causal language models, on a tiny GPT-2-style model trained here for a few
seconds (tests/conftest.py `tiny_lm`): round trips in chunk and window modes, determinism, the
bits against an independent Σ -log2 p from full forward passes, BOS and no-BOS first tokens,
records with the model's size, and bad models, paths and tokenizers as one line with exit 2."""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import mdlbench  # noqa: E402
from mdlbench import api  # noqa: E402
from mdlbench.coding import container  # noqa: E402
from mdlbench.compressors import create, hf  # noqa: E402
from mdlbench.datasets import load  # noqa: E402
from mdlbench.errors import UsageError  # noqa: E402
from mdlbench.models import runtime  # noqa: E402

TEXT = load("canterbury").data[:6000]  # alice29.txt: not the text the model was trained on


def _lm(folder: Path):
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, local_files_only=True)
    return model.eval(), transformers.AutoTokenizer.from_pretrained(folder)


def _independent_bits(folder: Path, data: bytes, chunk: int, context: int, stride: int,
                      bos: bool = True) -> float:
    """Σ -log2 p of the chunks' tokens, each distribution from a full forward pass over the
    window as the protocol defines it (no KV cache, no batching): float64 log-softmax."""
    model, tok = _lm(folder)
    vocab = model.config.vocab_size
    bits = 0.0
    with runtime.deterministic(1):  # one thread: several contend on a small machine
        for piece in hf._chunks(data, chunk):
            bits += _chunk_bits(model, tok, piece, vocab, context, stride, bos)
    return bits


def _chunk_bits(model, tok, piece: bytes, vocab: int, context: int, stride: int,
                bos: bool) -> float:
    bits = 0.0
    ids = tok(piece.decode(), add_special_tokens=False)["input_ids"]
    fed = [tok.bos_token_id] if bos else []
    for token in ids:
        if fed:
            with torch.no_grad():
                logits = model(input_ids=torch.tensor([fed])).logits[0, -1].double()
            bits -= float(logits.log_softmax(-1)[token]) / math.log(2)
        else:
            bits += math.log2(vocab)  # no BOS: the first token under a uniform code
        fed.append(token)
        if len(fed) > context:
            fed = fed[-(context - stride):]
    return bits


@pytest.mark.parametrize("params", ["chunk=300", "chunk=0,context=24,stride=8",
                                    "chunk=2048,context=32,stride=20,batch=2"])
def test_round_trip_and_bits_against_full_forward_passes(tiny_lm, params):
    spec = f"hf:model={tiny_lm},{params}"
    comp = create(spec)
    data = TEXT[:1200]
    enc = comp.encode(data)
    assert comp.decode(enc.blob) == data
    assert api.decode_bytes(enc.blob) == data  # the stream names its model
    assert create(spec).encode(data).blob == enc.blob  # deterministic
    context, stride = comp.window()
    expected = _independent_bits(tiny_lm, data, comp.config["chunk"], context, stride)
    assert enc.bits_ideal == pytest.approx(expected, rel=2e-5)
    payload = 8 * len(container.unwrap(enc.blob)[1])
    assert enc.bits_ideal - 1 < payload < enc.bits_ideal + 64 * len(hf._chunks(data, 300))


def test_modes_are_stated_and_differ(tiny_lm):
    chunked = create(f"hf:model={tiny_lm}").encode(TEXT)
    window = create(f"hf:model={tiny_lm},chunk=0,context=64,stride=16").encode(TEXT)
    assert chunked.extras["protocol"] == ("chunks of at most 2048 bytes, each coded on its own; "
                                          "window 64 tokens, stride 32")
    assert window.extras["protocol"] == "the input as one sequence; window 64 tokens, stride 16"
    assert chunked.extras["chunks"] == 3 and window.extras["chunks"] == 1
    assert chunked.extras["first_token"] == "conditioned on BOS '<|endoftext|>'"
    assert chunked.bits != window.bits


def test_utf8_chunks_are_cut_between_characters(tiny_lm):
    data = ("naïve café, Ünïcödé " * 40).encode()
    pieces = hf._chunks(data, 50)
    assert b"".join(pieces) == data and all(len(p) <= 50 for p in pieces)
    assert all(p.decode() for p in pieces)  # none split a character
    comp = create(f"hf:model={tiny_lm},chunk=50")
    enc = comp.encode(data)
    assert comp.decode(enc.blob) == data and enc.extras["latin1_chunks"] == 0


def test_bytes_that_are_not_utf8_are_read_as_latin1(tiny_lm):
    data = TEXT[:500] + bytes(range(256)) + TEXT[500:700]
    comp = create(f"hf:model={tiny_lm},chunk=400")
    enc = comp.encode(data)
    assert comp.decode(enc.blob) == data
    assert enc.extras["latin1_chunks"] == 1  # the chunk holding the binary bytes


@pytest.fixture
def no_bos(tiny_lm, tmp_path) -> Path:
    """The tiny model with no BOS token anywhere (config and tokenizer)."""
    folder = tmp_path / "no-bos"
    shutil.copytree(tiny_lm, folder)
    for name, keys in (("config.json", ("bos_token_id",)), ("tokenizer_config.json", ("bos_token",))):
        d = json.loads((folder / name).read_text())
        d.update({k: None for k in keys})
        (folder / name).write_text(json.dumps(d))
    return folder


def test_a_model_without_bos_codes_its_first_token_uniformly(no_bos):
    comp = create(f"hf:model={no_bos},chunk=500")
    data = TEXT[:1000]
    enc = comp.encode(data)
    assert comp.decode(enc.blob) == data
    assert enc.extras["first_token"] == "uniform over the vocabulary (8.64 bits): the model has no BOS"
    expected = _independent_bits(no_bos, data, 500, 64, 32, bos=False)
    assert enc.bits_ideal == pytest.approx(expected, rel=2e-5)


def test_records_carry_the_model_and_the_adjusted_rate(tiny_lm, tmp_path, mdl):
    spec = f"hf:model={tiny_lm}"
    r = mdl("run", "canterbury:head=20000", "-c", spec, "-c", "zstd:level=19", "--results",
            str(tmp_path / "runs"), "-q")
    assert r.code == 0, r.err
    rec = next(x for x in mdlbench.records([tmp_path / "runs"]) if x.compressor.name == "hf")
    model = rec.compressor.model
    assert model["parameters"] == sum(p.numel() for p in _lm(tiny_lm)[0].parameters())
    assert model["bits"] == 32 * model["parameters"] and model["stored_as"] == "F32"
    assert rec.bits_with_model == rec.bits + model["bits"]
    assert rec.bits_ideal < rec.bits and rec.verified
    assert f"model:{hf._digest(tiny_lm)}" in rec.code
    raw = mdl("compare", str(tmp_path / "runs"), "--format", "csv")
    adjusted = mdl("compare", str(tmp_path / "runs"), "--format", "csv", "--metric", "adjusted")
    row = {line.split(",")[0]: line.split(",")[1] for line in adjusted.out.splitlines()[1:]}
    assert float(row[spec]) == pytest.approx(rec.bits_with_model / 20000, rel=1e-3)
    assert row["zstd:level=19"] in raw.out  # no model to add: the same rate both ways


def test_an_edited_model_runs_again_and_old_streams_refuse_it(tiny_lm, tmp_path):
    folder = tmp_path / "lm"
    shutil.copytree(tiny_lm, folder)
    spec = f"hf:model={folder},chunk=500"
    (first,) = mdlbench.run(["canterbury:head=1000"], [spec], results_dir=tmp_path / "runs")
    blob = create(spec).encode(TEXT[:1000]).blob
    (folder / "training.json").write_text("{}")  # another model, as far as anyone can tell
    (again,) = mdlbench.run(["canterbury:head=1000"], [spec], results_dir=tmp_path / "runs")
    assert again.created != first.created and again.code != first.code
    with pytest.raises(UsageError, match="encoded under another model"):
        create(spec).decode(blob)


def test_bad_models_are_one_line_exit_2(tiny_lm, tmp_path, mdl, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # a hub id: from the cache alone, not the network
    distil = tmp_path / "distilbert"
    transformers.DistilBertModel(transformers.DistilBertConfig(
        vocab_size=50, dim=8, n_layers=1, n_heads=2, hidden_dim=16)).save_pretrained(distil)
    cases = {
        f"hf:model={tmp_path / 'nowhere'}": f"hf: no model folder at {tmp_path / 'nowhere'}",
        f"hf:model={distil}": "is a 'distilbert' model, not a causal language model",
        "hf": "hf: which model?",
        "hf:model=mdlbench-tests/no-such-model": "hf: cannot load 'mdlbench-tests/no-such-model'",
        f"hf:model={tiny_lm},context=65": "context=65 is more than the 64 positions",
        f"hf:model={tiny_lm},stride=64,context=64": "stride=64 must be at least 1 and below",
    }
    for spec, message in cases.items():
        r = mdl("run", "canterbury:head=1000", "-c", spec, "--results", str(tmp_path / "runs"))
        assert r.code == 2 and len(r.err.strip().splitlines()) == 1, (spec, r.err)
        assert r.err.startswith("mdlbench: error: ") and message in r.err, (spec, r.err)
    assert not (tmp_path / "runs").exists()


def _damage(name: str, how: str) -> object:
    """A way to spoil one file of a model folder, as disks and downloads do."""
    def spoil(path: Path) -> None:
        data = path.read_bytes()
        path.write_bytes({"zeroed": lambda: bytes(len(data)),
                          "truncated": lambda: data[:len(data) // 3],
                          "tiny": lambda: data[:5],
                          "garbage": lambda: (9).to_bytes(8, "little") + b"not json!" + bytes(64),
                          "outside": lambda: _beyond(data)}[how]())
    return spoil


def _beyond(data: bytes) -> bytes:
    """A safetensors file whose first tensor claims data past the end of the file."""
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    first = next(k for k in header if k != "__metadata__")
    header[first]["data_offsets"] = [0, len(data) * 2]
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + data[8 + n:]


DAMAGED = [("config.json", "zeroed"), ("config.json", "truncated"),
           ("model.safetensors", "zeroed"), ("model.safetensors", "truncated"),
           ("model.safetensors", "tiny"), ("model.safetensors", "garbage"),
           ("model.safetensors", "outside")]


@pytest.mark.parametrize("name,how", DAMAGED)
def test_a_damaged_model_file_is_one_line_naming_it(tiny_lm, tmp_path, mdl, name, how):
    folder = tmp_path / "model"
    shutil.copytree(tiny_lm, folder)
    _damage(name, how)(folder / name)
    r = mdl("run", "canterbury:head=1000", "-c", f"hf:model={folder}", "--results",
            str(tmp_path / "runs"))
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1, r.err
    assert r.err.startswith("mdlbench: error: hf: ") and str(folder / name) in r.err, r.err
    assert not (tmp_path / "runs").exists()


@pytest.fixture
def lossy(tiny_lm, tmp_path) -> Path:
    """The tiny model behind a tokenizer that lowercases its input: not lossless."""
    folder = tmp_path / "lossy"
    shutil.copytree(tiny_lm, folder)
    d = json.loads((folder / "tokenizer.json").read_text())
    d["normalizer"] = {"type": "Lowercase"}
    (folder / "tokenizer.json").write_text(json.dumps(d))
    return folder


def test_a_lossy_tokenizer_is_refused(lossy, tmp_path, mdl):
    src = tmp_path / "in.txt"
    src.write_bytes(TEXT[:300])
    r = mdl("encode", "-c", f"hf:model={lossy}", str(src), str(tmp_path / "out.mdl"))
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1
    assert "is not lossless on this data: the chunk at byte 0 comes back as" in r.err
    assert not (tmp_path / "out.mdl").exists()
    r = mdl("run", str(src), "-c", f"hf:model={lossy}", "--results", str(tmp_path / "runs"), "-q")
    assert r.code == 1  # in a grid, the cell is an error and the others still run
    (rec,) = mdlbench.records([tmp_path / "runs"])
    assert rec.status == "error" and "not lossless" in rec.error


def test_without_transformers_it_says_how_to_get_it(tiny_lm, monkeypatch, mdl):
    monkeypatch.setitem(sys.modules, "transformers", None)  # `import transformers` fails
    hf._config.cache_clear()
    try:
        with pytest.raises(UsageError, match=r"pip install 'mdlbench\[hf\]'"):
            create(f"hf:model={tiny_lm}")
        r = mdl("run", "canterbury:head=100", "-c", f"hf:model={tiny_lm}")
        assert r.code == 2 and r.err.strip() == f"mdlbench: error: {hf.INSTALL}"
    finally:
        hf._config.cache_clear()


def test_window_predictions_match_full_passes_token_by_token(tiny_lm):
    """The cached step path against a full recomputation, distribution by distribution."""
    model, tok = _lm(tiny_lm)
    ids = tok(TEXT[:400].decode(), add_special_tokens=False)["input_ids"][:90]
    with runtime.deterministic(1):
        win = hf.Window(model, 1, 40, 10, tok.bos_token_id, "cpu", 1)
        fed = [tok.bos_token_id]
        for token in ids:
            with torch.no_grad():
                full = model(input_ids=torch.tensor([fed])).logits[0, -1].float().softmax(-1)
            np.testing.assert_allclose(win.predict()[0], full.double().clamp_min(1e-12).numpy(),
                                       rtol=1e-4, atol=1e-7)
            win.feed(np.array([token]))
            fed.append(token)
            if len(fed) > 40:
                fed = fed[-30:]


def test_a_stream_naming_a_hub_model_fetches_nothing(monkeypatch, tmp_path):
    """A stream's header is anyone's writing: decoding one that names a hub id loads the model
    from the local cache or refuses, and opens no connection (the hub client's own agent-list
    request included)."""
    import socket

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    tried = []

    def connect(*args, **kwargs):
        tried.append(args)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "create_connection", connect)
    hf._config.cache_clear()
    blob = container.wrap("hf:model=someone/some-model", b"hello world", b"\0" * 40, b"")
    with pytest.raises(UsageError, match="cannot load 'someone/some-model'"):
        api.decode_bytes(blob)
    assert tried == []
