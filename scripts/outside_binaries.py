"""Gather binaries that are not in this repository, to check `mix` against ZPAQ on kinds of
data it was never tuned on: executables, audio, a medical image, elevation and bathymetry
grids, sensor traces and a table. Everything comes from what a mdlbench set-up already has
(matplotlib's sample data, CPython's test data, the system's `ls`); grids stored as .npz are
written out as their raw arrays. Prints each file's size and sha256, so a run can be matched.

    .venv/bin/python scripts/outside_binaries.py /tmp/bins
    mdlbench run /tmp/bins --per-file -c mix -c zpaq:level=5 -c xz:preset=9,extreme=true \\
        --results results/outside-binaries
    mdlbench compare results/outside-binaries --view parts --format md
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import shutil
import sys
import sysconfig
from pathlib import Path

import matplotlib
import numpy as np


def gather(out: Path) -> dict[str, bytes]:
    sample = Path(matplotlib.get_data_path()) / "sample_data"
    tests = Path(sysconfig.get_paths()["stdlib"]) / "test"
    files = {
        "ls.elf": Path(shutil.which("ls") or "/bin/ls").read_bytes(),
        "audiotest.au": (tests / "audiotest.au").read_bytes(),
        "pluck-pcm32.wav": (tests / "audiodata" / "pluck-pcm32.wav").read_bytes(),
        "mri.ima": gzip.decompress((sample / "s1045.ima.gz").read_bytes()),
        "eeg.dat": (sample / "eeg.dat").read_bytes(),
        "membrane.dat": (sample / "membrane.dat").read_bytes(),
        "stocks.csv": (sample / "Stocks.csv").read_bytes(),
        "dem.raw": np.ascontiguousarray(
            np.load(sample / "jacksboro_fault_dem.npz")["elevation"]).tobytes(),
        "topo.raw": np.ascontiguousarray(np.load(sample / "topobathy.npz")["topo"]).tobytes(),
    }
    libz = sorted(Path("/usr/lib/x86_64-linux-gnu").glob("libz.so.1.*"))
    if libz:
        files["libz.so"] = libz[0].read_bytes()
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    return files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="folder to write the files to")
    args = ap.parse_args()
    try:
        files = gather(args.out)
    except OSError as e:
        print(f"outside_binaries: {e}", file=sys.stderr)
        return 2
    for name, data in sorted(files.items()):
        print(f"{name:16} {len(data):>8,} B  sha256 {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
