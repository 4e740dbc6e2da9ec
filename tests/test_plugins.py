"""Plugins: compressors and datasets from outside the package, by file, module, environment,
entry point and notebook; in records and cell keys; in worker processes and Ray; and broken
plugins as one line with exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import mdlbench
from mdlbench import plugins
from mdlbench.compressors import REGISTRY, Compressor, create, register
from mdlbench.datasets import Dataset, DatasetLoader, register_dataset
from mdlbench.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]
SNAPPY = ROOT / "examples" / "snappy_codec.py"

MYCODECS = '''
import zlib

from mdlbench.compressors import Compressor, register
from mdlbench.datasets import Dataset, DatasetLoader, register_dataset
from mdlbench.params import Param


@register
class MyZlib(Compressor):
    name = "myzlib"
    summary = "zlib at a level of my choosing"
    params = (Param("level", int, 1, "zlib level", min=0, max=9),)

    def compress(self, data):
        return zlib.compress(data, self.config["level"])

    def decompress(self, blob):
        return zlib.decompress(blob)


@register_dataset
class Squares(DatasetLoader):
    name = "squares"
    params = (Param("n", int, 3000, "how many", min=1),)

    def load(self):
        data = "".join(f"{i * i}\\n" for i in range(self.config["n"])).encode()
        return Dataset(self.spec, [(self.spec, data)])
'''


@pytest.fixture(autouse=True)
def isolated(fresh_registries):
    """Each test starts with mdlbench's own registries and no plugin loaded, and leaves them so."""
    modules = set(sys.modules)
    yield
    for name in set(sys.modules) - modules:
        if name.startswith(("mycodecs", "mdlbench_fake")):
            del sys.modules[name]


def _records(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(root.rglob("*.json"))]


COUNTED = """
import os

from mdlbench.datasets import Dataset, DatasetLoader, register_dataset


@register_dataset
class Counted(DatasetLoader):
    name = "counted"

    def load(self):
        with open(os.environ["MDLBENCH_TEST_LOADS"], "a") as f:
            f.write(f"{os.getpid()}\\n")
        return Dataset(self.spec, [(self.spec, b"counted once " * 400)])
"""


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_run_loads_each_dataset_once_whatever_its_jobs(tmp_path, monkeypatch, jobs):
    """The driver loads a dataset to check the grid; its cells, inline or in worker processes,
    code that copy: no worker loads (or checksums) it again."""
    plugin = tmp_path / "counted.py"
    plugin.write_text(COUNTED)
    loads = tmp_path / "loads"
    monkeypatch.setenv("MDLBENCH_TEST_LOADS", str(loads))  # the workers inherit it
    recs = mdlbench.run(["counted"], ["zlib", "bz2", "zstd"], results_dir=None, jobs=jobs,
                        plugins=[str(plugin)], progress=False)
    assert [r.status for r in recs] == ["verified"] * 3
    assert {r.timing.cells_at_once for r in recs} == {jobs}  # -j 2: they ran in workers
    assert loads.read_text().splitlines() == [str(os.getpid())]


def test_file_plugin_runs_in_worker_processes(mdl, tmp_path):
    runs = tmp_path / "runs"
    r = mdl("--plugin", str(SNAPPY), "run", "canterbury:head=30000", "bible:head=30000",
            "-c", "snappy", "-j", "2", "--results", str(runs), "-q")
    assert r.code == 0, r.err
    recs = _records(runs)
    assert len(recs) == 2 and all(d["status"] == "verified" for d in recs)
    assert all(d["timing"]["cells_at_once"] == 2 for d in recs)  # they did run in workers
    plugin = recs[0]["compressor"]["plugin"]
    assert plugin["file"] == str(SNAPPY) and len(plugin["sha256"]) == 16
    assert recs[0]["compressor"]["version"] == mdlbench.compressors.base.library_version("cramjam")
    assert f"snappy_codec.py:{plugin['sha256']}" in recs[0]["code"]
    listed = mdl("--plugin", str(SNAPPY), "list", "--json")
    (entry,) = [c for c in json.loads(listed.out)["compressors"] if c["name"] == "snappy"]
    assert entry["plugin"] == str(SNAPPY)
    table = mdl("--plugin", str(SNAPPY), "list").out
    assert "snappy" in table and str(SNAPPY.parent) not in table  # as wide on every clone


def test_torch_example_runs_in_worker_processes(mdl, tmp_path):
    runs = tmp_path / "runs"
    r = mdl("--plugin", str(ROOT / "examples" / "gru_coder.py"), "run", "canterbury:head=3000",
            "bible:head=3000", "-c", "gru:hidden=16,embed=4", "-j", "2", "--results", str(runs),
            "-q")
    assert r.code == 0, r.err
    recs = _records(runs)
    assert [d["status"] for d in recs] == ["verified"] * 2
    assert all(d["extras"]["segments"] and d["bits_ideal"] < d["bits"] for d in recs)
    assert recs[0]["compressor"]["plugin"]["file"].endswith("gru_coder.py")


def test_module_plugin_from_the_environment(mdl, tmp_path, monkeypatch):
    (tmp_path / "mycodecs.py").write_text(MYCODECS)
    monkeypatch.chdir(tmp_path)  # `--plugin mycodecs` finds ./mycodecs.py, as python -m would
    monkeypatch.setenv(plugins.ENV, "mycodecs")
    r = mdl("run", "squares:n=2000", "-c", "myzlib:level=9", "--results", "runs", "-q")
    assert r.code == 0, r.err
    (rec,) = _records(tmp_path / "runs")
    assert rec["compressor"]["plugin"]["module"] == "mycodecs"
    assert rec["compressor"]["spec"] == "myzlib:level=9" and rec["status"] == "verified"
    bad = mdl("run", "squares", "-c", "nosuch", "--results", "runs")
    assert bad.code == 2 and "myzlib" in bad.err  # known names include the plugin's
    bad = mdl("run", "nosuchdata", "-c", "myzlib", "--results", "runs")
    assert bad.code == 2 and "squares" in bad.err


def test_edited_plugin_runs_again(tmp_path):
    plug = tmp_path / "plug.py"
    plug.write_text(MYCODECS)
    args = dict(results_dir=tmp_path / "runs", plugins=[str(plug)])
    (first,) = mdlbench.run(["squares:n=500"], ["myzlib"], **args)
    (again,) = mdlbench.run(["squares:n=500"], ["myzlib"], **args)
    assert again.created == first.created  # the same code: reused
    plug.write_text(MYCODECS.replace("zlib.compress(data, ", "zlib.compress(data, level=")
                    .replace('self.config["level"])', 'self.config["level"])  # edited'))
    (edited,) = mdlbench.run(["squares:n=500"], ["myzlib"], **args)
    assert edited.created != first.created and edited.code != first.code
    assert edited.compressor.plugin["sha256"] != first.compressor.plugin["sha256"]


def _fake_distribution(site: Path, body: str, entry: str = "fakezip = mdlbench_fake:FakeZip"
                       ) -> None:
    """An installed distribution as pip leaves it: a package and its .dist-info."""
    (site / "mdlbench_fake").mkdir(parents=True)
    (site / "mdlbench_fake" / "__init__.py").write_text(body)
    info = site / "mdlbench_fake-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mdlbench-fake\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[mdlbench.compressors]\n{entry}\n")
    (info / "top_level.txt").write_text("mdlbench_fake\n")


FAKEZIP = '''
import bz2

from mdlbench.compressors import Compressor


class FakeZip(Compressor):  # not decorated: the entry point registers it
    name = "fakezip"

    def compress(self, data):
        return bz2.compress(data, 1)

    def decompress(self, blob):
        return bz2.decompress(blob)
'''


def test_entry_point_plugin(tmp_path, monkeypatch):
    site = tmp_path / "site"
    _fake_distribution(site, FAKEZIP)
    monkeypatch.syspath_prepend(str(site))
    recs = mdlbench.run(["iid:n=3000", "markov:n=3000"], ["fakezip"], results_dir=None, jobs=2)
    assert [r.status for r in recs] == ["verified", "verified"]
    plugin = recs[0].compressor.plugin
    assert (plugin["distribution"], plugin["version"]) == ("mdlbench-fake", "1.2.3")
    assert "mdlbench_fake==1.2.3:" in recs[0].code
    assert "fakezip" in {c["name"] for c in mdlbench.catalogue()["compressors"]}


def test_broken_entry_point_is_one_line(mdl, tmp_path, monkeypatch):
    site = tmp_path / "site"
    _fake_distribution(site, "raise RuntimeError('half-installed')\n")
    monkeypatch.syspath_prepend(str(site))
    r = mdl("list")
    assert r.code == 2
    assert r.err.strip() == ("mdlbench: error: plugin mdlbench-fake (entry point fakezip = "
                             "mdlbench_fake:FakeZip): RuntimeError: half-installed")


BROKEN = {
    "import_error": ("import no_such_module_anywhere\n",
                     "ModuleNotFoundError: No module named 'no_such_module_anywhere'"),
    "syntax_error": ("def (:\n", "SyntaxError"),
    "registers_nothing": ("X = 1\n", "registers no compressor or dataset"),
    "not_a_compressor": ("from mdlbench.compressors import register\n"
                         "@register\nclass X:\n    name = 'x'\n", "not a Compressor subclass"),
    "abstract": ("from mdlbench.compressors import Compressor, register\n"
                 "@register\nclass X(Compressor):\n    name = 'x'\n"
                 "    def compress(self, data):\n        return data\n",
                 "does not implement decompress"),
    "bad_name": ("from mdlbench.compressors import Compressor, register\n"
                 "@register\nclass X(Compressor):\n    name = 'has space'\n"
                 "    def compress(self, data):\n        return data\n"
                 "    def decompress(self, blob):\n        return blob\n", "must be a letter"),
    "junk_params": ("from mdlbench.compressors import Compressor, register\n"
                    "@register\nclass X(Compressor):\n    name = 'junkp'\n    params = 'junk'\n"
                    "    def compress(self, data):\n        return data\n"
                    "    def decompress(self, blob):\n        return blob\n",
                    "params must be a tuple of mdlbench.params.Param"),
    "junk_library": ("from mdlbench.compressors import Compressor, register\n"
                     "@register\nclass X(Compressor):\n    name = 'junkl'\n    library = 456\n"
                     "    def compress(self, data):\n        return data\n"
                     "    def decompress(self, blob):\n        return blob\n",
                     "its library must be a string, not 456"),
    "bad_default": ("from mdlbench.compressors import Compressor, register\n"
                    "from mdlbench.params import Param\n"
                    "@register\nclass X(Compressor):\n    name = 'bp2'\n"
                    "    params = (Param('level', int, 'abc'),)\n"
                    "    def compress(self, data):\n        return data\n"
                    "    def decompress(self, blob):\n        return blob\n",
                    "'abc' is not a valid int"),
    "param_twice": ("from mdlbench.compressors import Compressor, register\n"
                    "from mdlbench.params import Param\n"
                    "@register\nclass X(Compressor):\n    name = 'bp3'\n"
                    "    params = (Param('level', int, 4), Param('level', int, 4))\n"
                    "    def compress(self, data):\n        return data\n"
                    "    def decompress(self, blob):\n        return blob\n",
                    "parameter name 'level' is not a string declared once"),
    "taken_name": ("from mdlbench.compressors import Compressor, register\n"
                   "@register\nclass X(Compressor):\n    name = 'zstd'\n"
                   "    def compress(self, data):\n        return data\n"
                   "    def decompress(self, blob):\n        return blob\n",
                   "compressor 'zstd' is registered by mdlbench.compressors.classical (Zstd) "
                   "and again by mdlbench_plugin_taken_name_"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_plugin_is_one_line_exit_2(mdl, tmp_path, case):
    body, message = BROKEN[case]
    path = tmp_path / f"{case}.py"
    path.write_text(body)
    r = mdl("--plugin", str(path), "run", "iid:n=100", "-c", "zlib", "--results",
            str(tmp_path / "runs"))
    assert r.code == 2
    assert len(r.err.strip().splitlines()) == 1, r.err
    assert r.err.startswith(f"mdlbench: error: plugin {path}: ") and message in r.err
    assert not (tmp_path / "runs").exists()  # nothing ran, nothing half-written
    assert "zstd" in REGISTRY and REGISTRY["zstd"].__module__ == "mdlbench.compressors.classical"


def test_missing_plugins(mdl, tmp_path):
    r = mdl("--plugin", str(tmp_path / "nowhere.py"), "list")
    assert r.code == 2 and r.err.strip().endswith("nowhere.py: no such file")
    r = mdl("--plugin", "no_such_plugin_module", "list")
    assert r.code == 2 and "no module named 'no_such_plugin_module'" in r.err


def _compressor(module: str, summary: str) -> type[Compressor]:
    """A compressor class as a notebook cell (or another module) defines it."""
    def compress(self, data: bytes) -> bytes:
        return data

    return type("Cell", (Compressor,), {"__module__": module, "name": "cellcodec",
                                        "summary": summary, "compress": compress,
                                        "decompress": compress})


def test_one_registration_rule_for_compressors():
    """The same class again (or the same definition again: a cell run twice, a worker) is a
    no-op; another class under a taken name is one UsageError naming both, from the same
    module too."""
    first = register(_compressor("__main__", "first run of the cell"))
    register(first)
    register(_compressor("__main__", "first run of the cell"))  # the same code again
    register(_compressor("__mp_main__", "first run of the cell"))  # in a spawned worker
    assert REGISTRY["cellcodec"] is first
    with pytest.raises(UsageError, match=r"registered by __main__ \(Cell\) and again by "
                                         r"__main__ \(Cell\)"):
        register(_compressor("__main__", "an edited cell"))
    with pytest.raises(UsageError, match="registered by __main__ .* and again by elsewhere"):
        register(_compressor("elsewhere", "someone else's"))
    assert REGISTRY["cellcodec"] is first


def test_one_registration_rule_for_datasets():
    def loader(module: str, text: str) -> type[DatasetLoader]:
        def load(self: Any) -> Dataset:
            return Dataset("cellset", [("x", text.encode())])

        return type("CellSet", (DatasetLoader,), {"__module__": module, "name": "cellset",
                                                  "load": load, "text": text})

    first = register_dataset(loader("__main__", "a"))
    register_dataset(first)
    register_dataset(loader("__main__", "a"))
    with pytest.raises(UsageError, match="dataset 'cellset' is registered by __main__"):
        register_dataset(loader("__main__", "b"))
    with pytest.raises(UsageError, match="and again by elsewhere"):
        register_dataset(loader("elsewhere", "a"))


def test_a_plugin_file_in_two_versions_registers_each_class_once(tmp_path):
    """Two classes of one plugin file under one name: the usage error, naming both."""
    path = tmp_path / "two.py"
    body = MYCODECS.split("@register_dataset")[0] if "@register_dataset" in MYCODECS else MYCODECS
    path.write_text(body + "\n\n@register\nclass Another(Compressor):\n    name = 'myzlib'\n"
                    "    def compress(self, data):\n        return data\n"
                    "    def decompress(self, blob):\n        return blob\n")
    with pytest.raises(UsageError, match=r"compressor 'myzlib' is registered by .*\(MyZlib\) "
                                         r"and again by .*\(Another\)"):
        plugins.load_file(path)


NOTEBOOK = '''
import json, sys, zlib
import mdlbench
from mdlbench.compressors import Compressor, register
from mdlbench.datasets import Dataset, DatasetLoader, register_dataset

for run in (1, 2):  # the cell, run twice: the same class again is a no-op
    @register
    class NotebookZlib(Compressor):
        name = "nbzlib"
        summary = "defined in __main__"

        def compress(self, data):
            return zlib.compress(data, 6)

        def decompress(self, blob):
            return zlib.decompress(blob)

    @register_dataset
    class Ramp(DatasetLoader):
        name = "ramp"

        def load(self):
            return Dataset("ramp", [("ramp", bytes(i % 251 for i in range(20000)))])

recs = mdlbench.run(["ramp", "iid:n=2000"], ["nbzlib"], results_dir=sys.argv[1], jobs=2)
again = mdlbench.run(["ramp", "iid:n=2000"], ["nbzlib"], results_dir=sys.argv[1], jobs=2)
print(json.dumps([[r.status, r.contended, r.compressor.plugin["module"], r.created == s.created]
                  for r, s in zip(recs, again)]))
'''


def test_notebook_classes_run_with_jobs_2(tmp_path):
    """Classes registered in __main__ with no file behind it (a notebook; here a script given
    with -c) travel to the spawned workers by value."""
    p = subprocess.run([sys.executable, "-c", NOTEBOOK, str(tmp_path / "runs")],
                       capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert p.returncode == 0, p.stderr
    # the workers' cell keys are the driver's: the second run reuses both cells
    assert json.loads(p.stdout) == [["verified", True, "__main__", True]] * 2


def test_snapshot_round_trip_in_this_process():
    """What a worker restores: a file plugin by path, a __main__ class by value."""
    plugins.load_file(SNAPPY)
    register(_compressor("__main__", "by value"))
    snap = plugins.snapshot()
    kinds = sorted(how for _, how, _, _, _ in snap.entries)
    assert kinds == ["file"] and snap.values
    del REGISTRY["snappy"], REGISTRY["cellcodec"]
    plugins.restore(snap)
    assert create("cellcodec").summary == "by value" and "snappy" in REGISTRY
    assert plugins.digest(REGISTRY["cellcodec"]) == plugins.digest(
        _compressor("__main__", "by value"))  # code digests agree across processes
    assert plugins.digest(REGISTRY["cellcodec"]) != plugins.digest(
        _compressor("__main__", "edited"))


def test_ray_workers_load_the_plugin(tmp_path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        recs = mdlbench.run(["iid:n=3000", "markov:n=3000"], ["snappy"], results_dir=None,
                            executor="ray", plugins=[str(SNAPPY)])
    finally:
        ray.shutdown()
    assert [r.status for r in recs] == ["verified", "verified"] and all(r.contended for r in recs)



# ------------------------------------------------------- plugins that exit, interrupt or print

EXITING = '''
import os, sys, zlib
from mdlbench.compressors import Compressor, register

print("a plugin talking on import")


def _ends(how):
    if how == "exit0":
        sys.exit(0)
    if how == "exit-text":
        raise SystemExit("bye")
    if how == "keyboard":
        raise KeyboardInterrupt
    if how == "generator":
        raise GeneratorExit


for _how, _where in [("exit0", "compress"), ("exit-text", "decompress"),
                     ("keyboard", "compress"), ("generator", "decompress"), ("talks", "")]:
    def compress(self, data, _how=_how, _where=_where):
        print("a plugin talking while it compresses")
        if _how == "talks":
            os.write(1, b"a C library writing to file descriptor 1\\n")
        if _where == "compress":
            _ends(_how)
        return zlib.compress(data)

    def decompress(self, blob, _how=_how, _where=_where):
        print("a plugin talking while it decompresses")
        if _where == "decompress":
            _ends(_how)
        return zlib.decompress(blob)

    _name = f"C_{_how.replace('-', '_')}"  # a module attribute: workers find it by name
    globals()[_name] = register(type(_name, (Compressor,),
                  {"name": f"ends-{_how}", "compress": compress, "decompress": decompress,
                   "__module__": __name__}))
'''
ENDERS = ["ends-exit0", "ends-exit-text", "ends-keyboard", "ends-generator"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_plugin_that_exits_or_interrupts_fails_its_cell_only(mdl, tmp_path, jobs):
    """sys.exit(), SystemExit, KeyboardInterrupt or GeneratorExit from a plugin's coder: a
    failed cell naming the plugin; every other cell runs; the exit status says a cell failed;
    what the plugin prints stays off standard output (the JSON)."""
    path = tmp_path / "exiting.py"
    path.write_text(EXITING)
    r = mdl("--plugin", str(path), "run", "iid:n=300", *[a for s in ENDERS for a in ("-c", s)],
            "-c", "ends-talks", "-c", "zlib", "-j", jobs, "--results", str(tmp_path / "runs"),
            "--format", "json")
    assert r.code == 1, r.err
    got = {rec["compressor"]["spec"]: rec for rec in json.loads(r.out)}  # stdout: JSON only
    assert got["zlib"]["status"] == got["ends-talks"]["status"] == "verified"
    for spec in ENDERS:
        assert got[spec]["status"] == "error" and got[spec]["bits"] is None, got[spec]
        assert f"raised by plugin {path} (compressor {spec})" in got[spec]["error"]
        lines = [ln for ln in r.err.splitlines() if f"ERROR {spec} on" in ln]
        assert len(lines) == 1, r.err
    assert len(_records(tmp_path / "runs")) == 6
    assert "4 cell(s) failed" in r.err


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_plugins_prints_never_reach_json(tmp_path, jobs):
    """In the driver (-j 1) and in workers, which share its standard output, neither the
    plugin's print() nor a write to file descriptor 1 (as a C library's) may reach it: a real
    process, so that file descriptor 1 is the one the JSON goes to."""
    path = tmp_path / "exiting.py"
    path.write_text(EXITING)
    p = subprocess.run([sys.executable, "-m", "mdlbench.cli", "--plugin", str(path), "run",
                        "iid:n=300", "markov:n=300", "-c", "ends-talks", "-c", "zlib", "-j", jobs,
                        "--results", str(tmp_path / "runs"), "--format", "json", "-q"],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert [r["status"] for r in json.loads(p.stdout)] == ["verified"] * 4, p.stdout[:300]
    assert "a plugin talking while it compresses" in p.stderr
    assert "a C library writing to file descriptor 1" in p.stderr


@pytest.mark.parametrize("body", ["import sys\nsys.exit(0)\n", "import sys\nsys.exit(5)\n",
                                  "raise KeyboardInterrupt\n", "raise SystemExit('no')\n"])
def test_a_plugin_that_exits_on_import_is_a_usage_error(mdl, tmp_path, body):
    path = tmp_path / "quitter.py"
    path.write_text(body)
    r = mdl("--plugin", str(path), "run", "iid:n=100", "-c", "zlib", "--results",
            str(tmp_path / "runs"))
    assert r.code == 2, r
    assert len(r.err.strip().splitlines()) == 1, r.err
    assert r.err.startswith(f"mdlbench: error: plugin {path}: ") and "on import" in r.err
    assert not (tmp_path / "runs").exists()


VERSIONED = '''
import zlib
from mdlbench.compressors import Compressor, register
{head}

@register
class Versioned(Compressor):
    name = "versioned"
    {library}

    def compress(self, data):
        return zlib.compress(data)

    def decompress(self, blob):
        return zlib.decompress(blob)
'''


@pytest.mark.parametrize("head,library,expected", [
    ("__version__ = '2.5.1'", "", "2.5.1"),
    ("", "", "sha256"),
    ("", "library = 'no-such-distribution-anywhere'", "sha256"),
    ("__version__ = '0.3'", "library = 'no-such-distribution-anywhere'", "0.3"),
])
def test_a_plugins_version_is_never_unknown(mdl, tmp_path, head, library, expected):
    """Its distribution's (test_entry_point_plugin), else its __version__, else the digest of
    its file; never "unknown", never mdlbench's own version."""
    path = tmp_path / "versioned.py"
    path.write_text(VERSIONED.format(head=head, library=library))
    listed = mdl("--plugin", str(path), "list", "--json")
    (entry,) = [c for c in json.loads(listed.out)["compressors"] if c["name"] == "versioned"]
    r = mdl("--plugin", str(path), "run", "iid:n=100", "-c", "versioned", "--results",
            str(tmp_path / "runs"), "-q")
    assert r.code == 0, r.err
    (rec,) = _records(tmp_path / "runs")
    digest = rec["compressor"]["plugin"]["sha256"]
    want = f"sha256:{digest}" if expected == "sha256" else expected
    assert entry["version"] == rec["compressor"]["version"] == want
    assert rec["compressor"]["plugin"]["version"] == want


CTRL_C = '''
import os, signal, zlib
from mdlbench.compressors import Compressor, register


@register
class Pressed(Compressor):
    name = "pressed"

    def compress(self, data):
        os.kill(os.getpid(), signal.SIGINT)  # the user's Ctrl-C, arriving while it codes
        return zlib.compress(data)

    def decompress(self, blob):
        return zlib.decompress(blob)
'''


def test_a_real_ctrl_c_while_a_plugin_codes_still_stops_the_run(mdl, tmp_path):
    """A KeyboardInterrupt raised by code fails its cell; one that a SIGINT raised stops the
    run, exit 130, as always."""
    path = tmp_path / "pressed.py"
    path.write_text(CTRL_C)
    r = mdl("--plugin", str(path), "run", "iid:n=300", "-c", "pressed", "-c", "zlib",
            "--results", str(tmp_path / "runs"), "-q")
    assert r.code == 130 and r.err.strip() == "mdlbench: interrupted", r
    assert _records(tmp_path / "runs") == []


_LOADER = ("import sys\nfrom mdlbench.datasets import Dataset, DatasetLoader, register_dataset\n"
           "@register_dataset\nclass L(DatasetLoader):\n    name = '{name}'\n"
           "    def load(self):\n        {body}\n")
BAD_LOADERS = {
    "dsraise": ("raise RuntimeError('load failed')", "load() raised RuntimeError: load failed"),
    "dsexit": ("sys.exit(4)", "load() raised SystemExit: 4"),
    "dsjunk": ("return 42", "must return a Dataset whose parts are a list of (name, bytes)"),
    "dsstr": ("return Dataset(name='s', parts=[('a', 'text')])", "a list of (name, bytes)"),
    "dsempty": ("return Dataset(name='e', parts=[])", "input is empty: dataset dsempty"),
    "dsnan": ("return Dataset(name='n', parts=[('a', b'x' * 99)], limit_bits=float('nan'))",
              "limit_bits nan is not a code length in bits"),
    "dsalpha": ("return Dataset(name='z', parts=[('a', b'x' * 99)], alphabet=0)",
                "alphabet 0 is not a whole number from 1"),
}


@pytest.mark.parametrize("name", sorted(BAD_LOADERS))
def test_a_dataset_plugin_that_fails_is_one_line_exit_2(mdl, tmp_path, name):
    """A plugin dataset's load() that raises, exits or returns what no coder can take is one
    line naming it, exit 2, no record; as a coder plugin's failure is."""
    body, message = BAD_LOADERS[name]
    path = tmp_path / f"{name}.py"
    path.write_text(_LOADER.format(name=name, body=body))
    r = mdl("--plugin", str(path), "run", name, "-c", "zlib", "--results", str(tmp_path / "r"))
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1, r.err
    assert f"dataset {name}" in r.err and message in r.err, r.err
    assert not (tmp_path / "r").exists()


def test_a_dataset_named_dot_dot_keeps_its_records_under_results(mdl, tmp_path):
    """A label is a folder name under --results: `..` or `.` would put the record beside or
    above it."""
    path = tmp_path / "dsdot.py"
    path.write_text(_LOADER.format(name="dsdot",
                                   body="return Dataset(name='..', parts=[('a', b'x' * 99)])"))
    results = tmp_path / "deep" / "r"
    r = mdl("--plugin", str(path), "run", "dsdot", "-c", "zlib", "--results", str(results))
    assert r.code == 0, r.err
    files = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.json"))
    assert len(files) == 1 and files[0].parts[:2] == ("deep", "r"), files
