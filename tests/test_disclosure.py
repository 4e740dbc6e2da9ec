"""Every figure says what it counts (issue 26): the digits order where the dataset is listed,
the container's bits apart from the payload's, and the decoder's share of every record,
re-derived here from the files it lists and checked against the code that really runs."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import lzma
import os
import sys
from pathlib import Path

import pytest

import mdlbench
from mdlbench import api, decoder_share
from mdlbench import datasets as dsmod
from mdlbench.coding import container
from mdlbench.compressors import REGISTRY, Given, create
from mdlbench.errors import UsageError
from mdlbench.results.record import Record, RecordError

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mdlbench"
IID = "iid:k=4,n=20000"  # the example: NML's regret 20.8 bits


# ----------------------------------------------------------------------------- digits' order

def test_digits_order_is_a_parameter_and_the_default_is_unchanged():
    default = dsmod.load("digits")
    assert dsmod.loader("digits:order=shuffled").spec == "digits"  # the default's name
    shuffled = dsmod.load("digits:order=shuffled")
    assert shuffled.sha256 == default.sha256 and shuffled.data == default.data
    # bit for bit the dataset of before: its identity (X and y) and its label bytes
    assert default.sha256 == "870b4323285b9e36d09c4921da0e5342c5f5b40b744fa0e7084b59083fa8ebfb"
    assert hashlib.sha256(default.data).hexdigest() == (
        "12a4999ae31d5d5aafcab2cf81f83191e9416afee23a3ad554efa327b902cbf0")
    assert bytes(b + 48 for b in default.data[:12]) == b"257912718715"
    plain = dsmod.load("digits:order=file")
    assert bytes(b + 48 for b in plain.data[:12]) == b"012345678901"
    assert plain.sha256 != default.sha256 and plain.name == "digits:order=file"
    with pytest.raises(UsageError, match="not one of shuffled|file"):
        dsmod.load("digits:order=random")


def test_digits_order_is_stated_where_the_dataset_is_listed(mdl):
    listed = next(d for d in api.catalogue()["datasets"] if d["name"] == "digits")
    assert "shuffled" in listed["summary"] and "digits:order=file" in listed["summary"]
    assert listed["params"] == "order=shuffled (shuffled|file)"
    assert "digits:order=file keeps the file order" in listed["description"]
    assert "rows in the file's order" in dsmod.load("digits:order=file").description
    out = mdl("list").out
    assert "order=shuffled (shuffled|file)" in " ".join(out.split()).replace("│ ", "")


# ----------------------------------------------------------------------------- container bits

@pytest.fixture(scope="module")
def iid_records(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    recs = mdlbench.run([IID], ["kt:order=0", "zstd:level=19"], results_dir=runs, progress=False)
    return {r.compressor.spec: r for r in recs}, runs


def test_container_bits_are_the_header_and_kt_payload_regret_is_nml(iid_records):
    recs, _ = iid_records
    kt = recs["kt:order=0"]
    ds = dsmod.load(IID)
    blob = create("kt:order=0").encode(ds.data).blob
    header, payload = container.unwrap(blob)
    assert kt.bits == 8 * len(blob)
    assert kt.container_bits == 8 * (len(blob) - len(payload)) == container.header_bits(blob)
    # magic + version, the spec with its length, length, CRC-32, meta with its length, check
    spec = len(header.spec.encode())
    assert kt.container_bits == 8 * (4 + 1 + spec + 3 + 4 + 1 + len(header.meta) + 2)
    nml_regret = kt.dataset.formulas["(NML)"] - kt.dataset.ml_bits
    assert nml_regret == pytest.approx(20.78, abs=0.01)
    assert kt.regret_bits > nml_regret + 200  # the stream's regret: its header included
    assert kt.payload_regret_bits == kt.regret_bits - kt.container_bits
    ideal_regret = kt.bits_ideal - kt.dataset.ml_bits
    assert ideal_regret == pytest.approx(nml_regret, abs=0.1)  # KT is essentially NML
    # the payload holds Σ -log2 p plus the coder's final bits and byte rounding, no header
    assert 0 <= kt.payload_regret_bits - ideal_regret < 8
    assert kt.payload_regret_bits == pytest.approx(nml_regret, abs=8)
    assert recs["zstd:level=19"].container_bits == 0  # a codec's own frame: no mdlbench header
    assert recs["zstd:level=19"].payload_bits == recs["zstd:level=19"].bits


def test_container_bits_agree_with_what_a_coder_reports_of_its_payload(tmp_path):
    (rec,) = mdlbench.run(["digits"], ["uniform"], results_dir=tmp_path, progress=False)
    assert rec.container_bits == rec.bits - rec.extras["payload_bits"]


# ----------------------------------------------------------------------------- decoder's share

def _rederive(share: dict) -> int:
    """The xz -9e size of the listed files, read again and laid out as the record says."""
    blob = b""
    for f in sorted(share["files"], key=lambda f: f["name"]):
        data = (ROOT / f["name"]).read_bytes()
        assert len(data) == f["bytes"]
        blob += f["name"].encode() + b"\0" + str(len(data)).encode() + b"\0" + data
    assert len(blob) == share["archive_bytes"]
    return len(lzma.compress(blob, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64,
                             preset=9 | lzma.PRESET_EXTREME))


def test_every_record_carries_the_decoder_share_and_the_whole(iid_records):
    recs, runs = iid_records
    for rec in recs.values():
        share = rec.decoder
        assert rec.decoder_bits == share["bits"] == 8 * share["xz_bytes"] == 8 * _rederive(share)
        assert rec.whole_bits == rec.bits + rec.decoder_bits  # decoder_bits leaves out the stream
        assert share["bytes"] == sum(f["bytes"] for f in share["files"])
        names = [f["name"] for f in share["files"]]
        assert names == sorted(names) and len(set(names)) == len(names)
        assert "xz -9e" in share["codec"] and "numpy" in share["reference"]
        module = sys.modules[type(create(rec.compressor.spec)).__module__].__file__
        assert Path(module).resolve().relative_to(ROOT).as_posix() in names
    stored = {r.compressor.spec: r for r in mdlbench.records([runs])}
    for spec, rec in recs.items():
        assert stored[spec].decoder == rec.decoder
        assert stored[spec].container_bits == rec.container_bits
        doc = json.loads(Path(stored[spec].path).read_text())
        assert doc["decoder_bits"] == rec.decoder_bits and doc["whole_bits"] == rec.whole_bits


def _executed_files(spec: str, data: bytes, side=None) -> set[str]:
    """Every mdlbench file whose code runs while a stream of `spec` is decoded: the coder built
    from the stream's spec, then its decode (traced with sys.setprofile, the static rule's
    independent check)."""
    blob = create(spec).encode(data, Given(side=side)).blob
    seen: set[str] = set()

    def profile(frame, event, arg):
        if event == "call":
            seen.add(frame.f_code.co_filename)

    sys.setprofile(profile)
    try:
        comp = create(container.unwrap(blob)[0].spec) if create(spec).self_describing else (
            create(spec))
        assert comp.decode(blob, Given(side=side)) == data
    finally:
        sys.setprofile(None)
    ours = {Path(f).resolve() for f in seen if f.endswith(".py")}
    if side is not None:  # the inputs both sides are given belong to the dataset, not the coder
        ours.discard(Path(sys.modules[type(side).__module__].__file__).resolve())
    return {p.relative_to(ROOT).as_posix() for p in ours if PACKAGE in p.parents}


@pytest.mark.parametrize("spec", ["kt:order=1", "zstd:level=3", "mix", "snml:order=0"])
def test_the_counted_source_covers_what_a_decoder_runs(spec):
    data = dsmod.load("canterbury:head=3000").data
    counted = {f["name"] for f in decoder_share.share(create(spec))["files"]}
    assert _executed_files(spec, data) <= counted


def test_a_labelled_decoder_counts_the_modules_it_imports_lazily():
    ds = dsmod.load("logistic:n=120,d=3,k=3")
    spec = "preq:epochs=5,first=32"
    counted = {f["name"] for f in decoder_share.share(create(spec))["files"]}
    ran = _executed_files(spec, ds.data, side=ds.labelled)
    assert "mdlbench/models/classifiers.py" in ran  # imported inside a function, still counted
    assert ran <= counted


def test_no_decoder_counts_the_api_or_the_presentation():
    for name, cls in REGISTRY.items():
        files, _ = decoder_share.source_files(cls)
        labels = {f.relative_to(ROOT).as_posix() for f in files}
        assert not labels & {"mdlbench/api.py", "mdlbench/cli.py"}, name
        assert not any(x.startswith(("mdlbench/results/", "mdlbench/harness/")) for x in labels)


def test_the_share_reads_bytes_not_times_and_a_plugin_counts_its_file(tmp_path, monkeypatch):
    plug = tmp_path / "odd_codec.py"
    plug.write_text(
        "import zlib\n"
        "from mdlbench.compressors.base import Compressor\n\n\n"
        "class Odd(Compressor):\n"
        "    name = 'odd'\n\n"
        "    def compress(self, data):\n"
        "        import some_helper_lib  # noqa: F401  (outside the reference machine)\n"
        "        return zlib.compress(data)\n\n"
        "    def decompress(self, blob):\n"
        "        return zlib.decompress(blob)\n")
    spec = importlib.util.spec_from_file_location("odd_codec", plug)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "odd_codec", module)  # as plugins.load_file does
    spec.loader.exec_module(module)
    share = decoder_share.share(module.Odd())
    names = [f["name"] for f in share["files"]]
    assert "plugin/odd_codec.py" in names and "mdlbench/compressors/base.py" in names
    assert "some_helper_lib" in share["outside"]  # named, not counted
    assert "some_helper_lib" not in decoder_share.share(create("zlib"))["outside"]
    os.utime(plug, (1, 1))  # another time, the same bytes: the same figure
    decoder_share._class_source.cache_clear()
    again = decoder_share.share(module.Odd())
    assert again == share
    files = {f["name"]: f["bytes"] for f in share["files"]}
    assert files["plugin/odd_codec.py"] == plug.stat().st_size


def test_a_damaged_decoder_share_is_refused_when_read(iid_records):
    recs, _ = iid_records
    doc = recs["kt:order=0"].to_dict()
    Record.from_dict(doc)
    for bad in ({"bits": "lots", "xz_bytes": 1, "files": []}, {"xz_bytes": 1, "files": []}):
        with pytest.raises(RecordError, match="decoder"):
            Record.from_dict({**doc, "decoder": bad})
    with pytest.raises(RecordError, match="container_bits"):
        Record.from_dict({**doc, "container_bits": -8})
    old = {k: v for k, v in doc.items() if k not in ("decoder", "container_bits")}
    rec = Record.from_dict(old)  # a record written before: no figure, never a guess
    assert rec.decoder_bits is None and rec.whole_bits is None and rec.payload_bits is None


# ----------------------------------------------------------------------------- README

def test_readme_compares_the_laplace_row_with_preq_payload():
    text = " ".join((ROOT / "README.md").read_text().split())
    assert "lands below the prequential logistic stream" not in text
    preq = next(r for r in mdlbench.records([ROOT / "results" / "readme" / "digits"])
                if r.compressor.spec == "preq")
    laplace = preq.dataset.formulas["(Laplace, logistic)"]
    header = preq.extras["header_bits"]
    for figure in (f"{preq.bits_ideal:.1f}", f"{laplace:.1f}", f"{laplace - preq.bits_ideal:.1f}",
                   f"{header}-bit", f"{preq.bits:,}"):
        assert figure in text, figure
    assert "digits:order=file" in text


def test_a_class_without_a_file_is_named_not_guessed():
    scope = {"__name__": "a_notebook"}
    exec("import zlib\nfrom mdlbench.compressors.base import Compressor\n"
         "class Nb(Compressor):\n    name = 'nb'\n"
         "    def compress(self, data):\n        return zlib.compress(data)\n"
         "    def decompress(self, blob):\n        return zlib.decompress(blob)\n", scope)
    share = decoder_share.share(scope["Nb"]())
    names = [f["name"] for f in share["files"]]
    assert "mdlbench/compressors/base.py" in names  # its base class's source still counts
    assert not any(n.startswith("plugin/") for n in names)  # abc's ABC is CPython's
    assert "a_notebook.Nb (no source)" in share["outside"]


# ----------------------------------------------------------------------------- boards and metrics

def _csv(text: str) -> dict[str, dict[str, str]]:
    rows = list(csv.reader(text.splitlines()))
    return {r[0]: dict(zip(rows[0][1:], r[1:], strict=True)) for r in rows[1:]}


def test_the_regret_board_splits_payload_and_container(iid_records, mdl):
    recs, runs = iid_records
    kt = recs["kt:order=0"]
    p = mdl("compare", str(runs), "--metric", "regret", "--format", "csv")
    assert p.code == 0, p.err
    board = _csv(p.out)
    label = kt.dataset.label  # iid:n=20000: k=4 is the default
    payload, container = f"{label} payload_regret", f"{label} container"
    row = board["kt:order=0"]
    assert float(row[container]) == kt.container_bits > 100
    assert float(row[payload]) == pytest.approx(kt.regret_bits - kt.container_bits)
    assert float(row[label]) == pytest.approx(float(row[payload]) + float(row[container]))
    nml = float(board["(NML)"][payload])
    assert nml == pytest.approx(20.78, abs=0.01) == float(board["(NML)"][label])
    assert float(board["(NML)"][container]) == 0  # a formula has no container
    assert abs(float(row[payload]) - nml) < 8  # KT's payload: essentially NML
    assert float(row[label]) > nml + 100  # its stream: the header on top
    assert float(board["zstd:level=19"][container]) == 0  # a codec's own frame
    md = mdl("compare", str(runs), "--metric", "regret", "--format", "md").out
    caption = md.splitlines()[0]
    assert caption.startswith("regret: bits of the stream, container included, above the best")
    assert "Beside each dataset: payload_regret: regret in bits less the container" in caption
    assert "Rows in parentheses are formulas, not streams: no container" in caption
    assert f"| {label} payload_regret | {label} container |" in md


def test_a_bits_board_says_its_formula_rows_have_no_container(iid_records, mdl):
    _, runs = iid_records
    with_formulas = mdl("compare", str(runs), "--metric", "bits", "--format", "md").out
    first = with_formulas.splitlines()[0]
    assert first.startswith("bits: bits of the real stream, headers included")
    assert "| (NML) |" in with_formulas and "formulas, not streams: no container" in first
    plain = mdl("compare", str(ROOT / "results" / "readme" / "bible"), "--metric", "bits",
                "--format", "md").out
    assert "formulas" not in plain.splitlines()[0]  # no formula row, no note


def test_whole_and_the_decoder_share_are_on_every_surface(iid_records, mdl, tmp_path):
    recs, runs = iid_records
    kt = recs["kt:order=0"]
    size = kt.dataset.size
    board = _csv(mdl("compare", str(runs), "--metric", "whole", "--format", "csv").out)
    assert float(board["kt:order=0"][kt.dataset.label]) == pytest.approx((kt.bits + kt.decoder_bits) / size)
    assert board["(NML)"][kt.dataset.label] == ""  # a formula has no decoder: no whole description
    shares = _csv(mdl("compare", str(runs), "--metric", "decoder_bits", "--format", "csv").out)
    assert float(shares["kt:order=0"][kt.dataset.label]) == kt.decoder_bits
    frame = mdlbench.results_frame([runs]).set_index("compressor")
    assert frame.loc["kt:order=0", "whole"] == pytest.approx(kt.whole_bits / size)
    assert frame.loc["kt:order=0", "decoder_bits"] == kt.decoder_bits
    assert frame.loc["kt:order=0", "container_bits"] == kt.container_bits
    page = mdlbench.html_report([runs])
    assert ">decoder bits</button>" in page and f">{kt.decoder_bits:,}</td>" in page
    assert f">{kt.whole_bits / size:.4f}</td>" in page
    fig = mdlbench.plot([runs], "pareto", metric="whole")
    assert fig.axes[0].get_ylabel() == "whole (bits per symbol)"
    doc = kt.to_dict()
    assert doc["whole"] == pytest.approx(kt.whole_bits / size)
    assert doc["payload_regret_bits"] == kt.payload_regret_bits


def test_each_model_convention_is_its_own_named_metric():
    from mdlbench.results import metrics

    doc = json.loads(next((ROOT / "results" / "hf-tiny").rglob("hf_*.json")).read_text())
    params, stored = 1000, 32_000
    doc["compressor"]["model"] = {"parameters": params, "bits": stored, "files_bits": 40_000}
    rec = Record.from_dict(doc)
    n = rec.dataset.size
    assert metrics.value("adjusted", rec) == (rec.bits + stored) / n
    assert metrics.value("lmic", rec) == (rec.bits + 16 * params) / n
    assert metrics.value("with_model_files", rec) == (rec.bits + 40_000) / n
    said = {m: metrics.caption(m) for m in ("adjusted", "lmic", "with_model_files")}
    assert "stored precision" in said["adjusted"] and "LMIC" not in said["adjusted"]
    assert "16 bits each" in said["lmic"] and "Delétang et al. 2024" in said["lmic"]
    assert "every file of a pretrained model's folder" in said["with_model_files"]
    del doc["compressor"]["model"]["files_bits"]  # a record that does not list the files
    assert metrics.value("with_model_files", Record.from_dict(doc)) is None
