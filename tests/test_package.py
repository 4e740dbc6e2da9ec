"""The package a user installs: the wheel is built from a copy of the source, installed into a
fresh virtual environment (offline: no index; its dependencies reached through a .pth file that
points at this environment's site-packages), and run from an empty folder, far from the source."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import mdlbench

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "mdlbench", "datasets")


def run(args: list[str | Path], cwd: Path, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    p = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, f"{args}\n{p.stdout}\n{p.stderr}"
    return p


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the wheel, the fresh environment's bin/ with mdlbench installed from it)."""
    tmp = tmp_path_factory.mktemp("package")
    src = tmp / "src"  # building writes build/ and *.egg-info beside the sources: not in ROOT
    src.mkdir()
    for name in SOURCE:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", tmp / "dist", src], cwd=tmp)
    [wheel] = (tmp / "dist").glob("mdlbench-*.whl")
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp)
    python = venv / "bin" / "python"
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    cwd=tmp).stdout.strip())
    here = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_dev_dependencies.pth").write_text("\n".join(sorted(here)) + "\n")
    run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
         "--no-index", wheel], cwd=tmp)
    return wheel, venv / "bin"


def user_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["MDLBENCH_DATA"] = str(tmp / "cache")
    return env


def test_wheel_holds_the_shipped_data_and_metadata(installed):
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert {"mdlbench/py.typed", "mdlbench/_data/canterbury/alice29.txt",
            "mdlbench/_data/bible/bible.txt", "mdlbench/_data/digits/digits.csv.gz",
            "mdlbench/_data/enwik8/MANIFEST.json", "mdlbench/_data/silesia/MANIFEST.json"} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: MIT" in meta
    assert f"\nVersion: {mdlbench.__version__}\n" in meta  # pyproject reads mdlbench/version.py
    assert "Requires-Dist: torch>=2.1; extra == \"torch\"" in meta
    assert not any(ln.startswith("Requires-Dist: torch") and "extra" not in ln
                   for ln in meta.splitlines())


def test_installed_wheel_runs_the_default_job_from_an_empty_folder(installed, tmp_path):
    _, bin_dir = installed
    empty = tmp_path / "empty"
    empty.mkdir()
    p = run([bin_dir / "mdlbench", "run", "canterbury", "-c", "zstd"], cwd=empty,
            env=user_env(tmp_path))
    assert "zstd" in p.stdout
    [record] = [json.loads(f.read_text()) for f in (empty / "results" / "runs").rglob("*.json")]
    assert record["verified"] is True
    assert record["dataset"]["size"] == 2_810_784 and record["dataset"]["files"] == 11
    [here] = mdlbench.run(["canterbury"], ["zstd"], results_dir=None)  # the source tree's
    assert record["bits"] == here.bits and record["dataset"]["sha256"] == here.dataset.sha256


def test_installed_wheel_needs_no_torch_for_codecs(installed, tmp_path):
    """torch is an extra: the codecs, `list` and the shipped data work where it is missing, and a
    coder that needs it says how to install it."""
    _, bin_dir = installed
    block = "import sys; sys.modules['torch'] = None; from mdlbench.cli import main; "
    script = (block + "import mdlbench; print(mdlbench.__file__); "
              "sys.argv = ['mdlbench', 'list', '--json']; main()")
    p = run([bin_dir / "python", "-c", script], cwd=tmp_path, env=user_env(tmp_path))
    where, _, listing = p.stdout.partition("\n")
    assert Path(where).is_relative_to(bin_dir.parent)  # the wheel's copy, not the source tree
    present = {d["name"]: d["present"] for d in json.loads(listing)["datasets"]}
    assert present["canterbury"] == present["bible"] == present["digits"] == "shipped"
    assert present["enwik8"] == "no"
    p = subprocess.run([bin_dir / "python", "-c", block + "sys.argv = ['mdlbench', 'run', "
                        "'bible:head=2000', '-c', 'lstm', '-j', '1']; main()"], cwd=tmp_path,
                       env=user_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip().splitlines()[-1] == (
        "mdlbench: error: this needs torch, which is not installed: pip install 'mdlbench[torch]'")


# ----------------------------------------------------------------------------- its structure


def intra_imports() -> tuple[dict[str, set[str]], set[str]]:
    """Every mdlbench module's imports of mdlbench modules, at module level or inside a function
    (never under `if TYPE_CHECKING:`), `from P import name` counting P.name where it is a module;
    and the names of the modules that are packages (an `__init__.py`)."""
    import ast

    package = Path(mdlbench.__file__).parent
    files = {}
    for f in sorted(package.rglob("*.py")):
        parts = f.relative_to(package.parent).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    packages = {m for m, f in files.items() if f.name == "__init__.py"}
    edges: dict[str, set[str]] = {m: set() for m in files}
    for mod, f in files.items():
        tree = ast.parse(f.read_text())
        hidden = {id(n) for t in ast.walk(tree) if isinstance(t, ast.If)
                  and "TYPE_CHECKING" in ast.unparse(t.test) for n in ast.walk(t)}
        here = mod.split(".") if mod in packages else mod.split(".")[:-1]
        for node in ast.walk(tree):
            if id(node) in hidden:
                continue
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = (".".join(here[:len(here) - node.level + 1] + [node.module or ""]).strip(".")
                        if node.level else node.module or "")
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base
                           for a in node.names]
            else:
                continue
            for t in targets:
                while t and t not in files:
                    t = t.rpartition(".")[0]
                if t and t != mod:
                    edges[mod].add(t)
    return edges, packages


def test_no_import_circle_and_no_import_from_a_package_above() -> None:
    """The structure drawing is one-way: no module reaches back up into a package `__init__`
    that contains it (take the name from its own module: mdlbench/version.py), and no chain of
    imports comes back to where it started (a circle: each side needs the other loaded first)."""
    edges, packages = intra_imports()
    assert len(edges) > 50 and "mdlbench.compressors.lookup" in edges["mdlbench.api"]
    back = sorted(f"{m} -> {t}" for m, ts in edges.items() for t in ts
                  if t in packages and m.startswith(t + "."))
    assert back == [], f"imports from a package __init__ above the importer: {back}"
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(edges[m]):
            assert state.get(t) != 1, f"import circle: {' -> '.join(path[path.index(t):] + [t])}"
            if t not in state:
                visit(t, [*path, t])
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m, [m])


def test_a_run_imports_only_the_dataset_and_coder_it_uses(tmp_path) -> None:
    """Registries load on demand: a mix run on a shipped dataset imports shipped.py of the
    dataset modules, mix.py of the coders, no binding or gate code; and measuring the decoder's
    share reads module files without importing them (coding/core.py stays unloaded)."""
    code = ("import sys, mdlbench\n"
            "mdlbench.run(['canterbury:head=2000'], ['mix'], results_dir=sys.argv[1],"
            " progress=False, repeat=1)\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('mdlbench.'))))\n")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, check=True).stdout.split()
    assert "mdlbench.compressors.mix" in out and "mdlbench.datasets.shipped" in out, out
    loaded = [m for m in out if m.startswith(("mdlbench.datasets.", "mdlbench.compressors."))]
    unused = {"datasets.synthetic", "datasets.algorithmic", "datasets.labelled", "datasets.corpora",
              "datasets.url", "compressors.classical", "compressors.binding", "compressors.kt"}
    assert not {f"mdlbench.{m}" for m in unused} & set(loaded), loaded
    assert not {"mdlbench.results.gate", "mdlbench.coding.core", "mdlbench.mdl"} & set(out), out
