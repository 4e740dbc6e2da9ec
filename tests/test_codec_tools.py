"""mdlbench's streams are the codecs' own: where a codec's command-line tool is installed, its
output at the same setting is mdlbench's stream plus the tool's container bytes, to the byte.
A tool that is absent, or built on another version of the library (whose encoder may choose
other matches), skips with the reason. GNU gzip is not here: it has its own DEFLATE encoder, not
zlib's (3 bytes apart from zlib's -9 on alice29)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mdlbench.compressors import create

ROOT = Path(__file__).resolve().parents[1]
FILE = ROOT / "datasets" / "canterbury" / "alice29.txt"


def _tool(cmd: list[str]) -> int:
    if shutil.which(cmd[0]) is None:
        pytest.skip(f"{cmd[0]} is not installed here")
    return len(subprocess.run([*cmd, str(FILE)], capture_output=True, check=True,
                              timeout=120).stdout)


def _size(spec: str) -> int:
    return len(create(spec).compress(FILE.read_bytes()))


@pytest.mark.parametrize("level", [1, 9])
def test_bzip2_tool(level: int) -> None:
    """Same libbz2, same .bz2 format: no container difference."""
    assert _tool(["bzip2", f"-{level}", "-c"]) == _size(f"bz2:level={level}")


@pytest.mark.parametrize("preset", [0, 6, 9])
def test_xz_tool(preset: int) -> None:
    """Same liblzma, same .xz container with CRC64."""
    assert _tool(["xz", f"-{preset}", "-c"]) == _size(f"xz:preset={preset}")


def _version(cmd: list[str], pattern: str) -> str:
    if shutil.which(cmd[0]) is None:
        pytest.skip(f"{cmd[0]} is not installed here")
    text = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    m = re.search(pattern, text.stdout + text.stderr)
    return m.group(1) if m else "?"


@pytest.mark.parametrize("level", [1, 3, 19])
def test_zstd_tool(level: int) -> None:
    """The zstd tool writes the frame's 4-byte checksum unless --no-check; mdlbench's frame
    has none (mdlbench's container has its CRC-32)."""
    import zstandard

    cli = _version(["zstd", "-V"], r"v(\d+\.\d+\.\d+)")
    lib = ".".join(map(str, zstandard.ZSTD_VERSION))
    if cli != lib:
        pytest.skip(f"the zstd tool is {cli}, python-zstandard bundles libzstd {lib}")
    assert _tool(["zstd", f"-{level}", "-q", "-c"]) - 4 == _size(f"zstd:level={level}")
    assert _tool(["zstd", f"-{level}", "-q", "--no-check", "-c"]) == _size(f"zstd:level={level}")


@pytest.mark.parametrize("cli_level,level", [(1, 0), (12, 12)])
def test_lz4_tool(cli_level: int, level: int) -> None:
    """python-lz4's frame: 64 KB linked blocks, the content size, no content checksum: the
    tool's -B4 -BD --content-size --no-frame-crc. (Its -9 differs from python-lz4's level 9 by
    a few bytes: HC levels are not mapped one to one.)"""
    import lz4

    cli = _version(["lz4", "-V"], r"v(\d+\.\d+\.\d+)")
    if cli != lz4.library_version_string():
        pytest.skip(f"the lz4 tool is {cli}, python-lz4 uses liblz4 "
                    f"{lz4.library_version_string()}")
    assert _tool(["lz4", f"-{cli_level}", "-q", "-B4", "-BD", "--content-size", "--no-frame-crc",
                  "-c"]) == _size(f"lz4:level={level}")


@pytest.mark.parametrize("quality", [5, 11])
def test_brotli_tool(quality: int) -> None:
    """The brotli tool's raw stream is the library's (no container)."""
    assert _tool(["brotli", f"-q{quality}", "-w24", "-c"]) == _size(f"brotli:quality={quality}")

