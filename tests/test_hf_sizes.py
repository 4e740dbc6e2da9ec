"""What `hf:` adds to its stream, under each stated convention (issue 26): the weights at their
stored precision, every file of the model folder the decoder reads (config and tokenizer too),
LMIC's 16 bits a parameter, and the decoder's share with the folder in it; on the tiny model
folder tests/conftest.py trains."""

from __future__ import annotations

import lzma
import shutil
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import mdlbench  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def hf_record(tiny_lm, tmp_path_factory):
    folder = tmp_path_factory.mktemp("lm") / "tiny"
    shutil.copytree(tiny_lm, folder)
    (rec,) = mdlbench.run(["canterbury:head=1500"], [f"hf:model={folder},chunk=500"],
                          results_dir=tmp_path_factory.mktemp("runs"), progress=False)
    assert rec.verified
    return rec, folder


def test_every_file_the_decoder_reads_is_counted(hf_record):
    rec, folder = hf_record
    model = rec.compressor.model
    files = sorted((p for p in folder.iterdir() if p.is_file()), key=lambda p: p.name)
    names = [p.name for p in files]
    assert "config.json" in names and "model.safetensors" in names
    assert any(n.startswith("tokenizer") for n in names)
    assert model["files"] == [{"name": p.name, "bytes": p.stat().st_size} for p in files]
    assert model["files_bits"] == 8 * sum(p.stat().st_size for p in files)
    weights = (folder / "model.safetensors").stat().st_size
    # the weights' stored size is the safetensors file less its header: config and tokenizer
    # are what the stored-precision figure leaves out
    assert model["bits"] < 8 * weights < model["files_bits"]
    assert rec.bits_with_model_files == rec.bits + model["files_bits"]
    assert rec.bits_with_model == rec.bits + model["bits"]  # stored precision, as before


def test_lmic_convention_is_its_own_figure(hf_record):
    rec, _ = hf_record
    model = rec.compressor.model
    assert model["stored_as"] == "F32" and model["bits"] == 32 * model["parameters"]
    assert model["lmic_bits"] == 16 * model["parameters"]
    assert rec.bits_lmic == rec.bits + 16 * model["parameters"]
    said = model["conventions"]
    assert set(said) == {"bits", "files_bits", "lmic_bits"}
    assert "stored precision" in said["bits"] and "tokenizer" in said["files_bits"]
    assert "16 bits" in said["lmic_bits"] and "LMIC" in said["lmic_bits"]
    assert rec.to_dict()["bits_lmic"] == rec.bits_lmic


def test_the_decoder_share_holds_the_model_folder(hf_record):
    rec, folder = hf_record
    share = rec.decoder
    listed = {f["name"]: f["bytes"] for f in share["files"]}
    for p in folder.iterdir():
        assert listed[f"model/{p.name}"] == p.stat().st_size
    assert "mdlbench/compressors/hf.py" in listed
    blob = b""
    for name in sorted(listed):
        path = folder / name[len("model/"):] if name.startswith("model/") else ROOT / name
        data = path.read_bytes()
        blob += name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data
    packed = lzma.compress(blob, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64,
                           preset=9 | lzma.PRESET_EXTREME)
    assert rec.decoder_bits == 8 * len(packed)
    assert rec.whole_bits == rec.bits + rec.decoder_bits
