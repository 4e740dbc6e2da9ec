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
