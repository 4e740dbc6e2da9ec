"""Files fetched on first use into the user's data cache, checked, unpacked and reused.

pooch downloads each file under a temporary name and moves it into place only when its sha256
matches, so a truncated or wrong download is never kept or used; it checks the file again on
every later use. An archive is unpacked once, into a folder beside it named after its checksum.
Without a network the error says which file to put where.

The cache is the user's cache folder (platformdirs: ~/.cache/mdlbench on Linux), or
$MDLBENCH_DATA when set: one folder per corpus, and url/ for `url:` datasets.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError, UsageError

ENV = "MDLBENCH_DATA"
TIMEOUT_S = 60
"""Seconds without an answer from the server before a download fails."""
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def cache_root() -> Path:
    """Where downloaded datasets live: $MDLBENCH_DATA, else the user's cache folder."""
    env = os.environ.get(ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("mdlbench", appauthor=False))


def check_sha256(text: str, owner: str) -> str:
    """A sha256 as 64 lower-case hex digits; UsageError otherwise."""
    digest = text.strip().lower()
    if not _HEX64.match(digest):
        raise UsageError(f"{owner}: sha256 must be 64 hex digits, got {text!r}")
    return digest


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Remote:
    """One file to download: where from, its name in the cache, and what it must hash to."""

    url: str
    file: str
    sha256: str | None
    """None only for `mdlbench fetch` of a url: dataset, which reports the hash and uses nothing."""
    size: int | None = None

    def describe(self) -> str:
        facts = ([f"{self.size:,} B"] if self.size else []) + (
            [f"sha256 {self.sha256}"] if self.sha256 else [])
        return f"{self.file} ({', '.join(facts)})" if facts else self.file


def retrieve(remote: Remote, folder: Path) -> Path:
    """The local copy of `remote` in `folder`: downloaded with a progress bar the first time,
    checked against its sha256 every time."""
    import pooch
    import requests

    pooch.get_logger().setLevel("WARNING")  # the progress bar says enough; errors are ours
    target = folder / remote.file
    had = target.exists()
    bar = ProgressBar(remote.file)
    downloader = pooch.HTTPDownloader(progressbar=bar, timeout=TIMEOUT_S)
    try:
        return Path(pooch.retrieve(remote.url, known_hash=remote.sha256, fname=remote.file,
                                   path=folder, downloader=downloader))
    except requests.exceptions.RequestException as e:  # before OSError: it is one
        stale = " (the file there now does not match)" if had else ""
        raise DataError(f"cannot download {remote.url}: {_reason(e)}. To do without the "
                        f"download, put {remote.describe()} at {target}{stale} and run again"
                        ) from None
    except ValueError:  # pooch's hash check: the temporary file is already deleted
        raise DataError(f"the download of {remote.url} does not match its sha256 "
                        f"{remote.sha256} (truncated, or changed upstream): not kept, not used"
                        ) from None
    except OSError as e:
        raise DataError(f"cannot write {target}: {e.strerror or e} (set {ENV} to a writable "
                        "folder)") from None
    finally:
        bar.close()


class ProgressBar:
    """pooch's progress-bar protocol (total, update, reset, close) over a tqdm bar that is drawn
    only once bytes arrive, and whose line is ended before any error is printed."""

    def __init__(self, label: str) -> None:
        self.total = 0
        self.label = label
        self._bar: Any = None

    def update(self, n: int) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=self.total or None, unit="B", unit_scale=True,
                             desc=self.label, leave=True)
        self._bar.update(n)

    def reset(self) -> None:
        if self._bar is not None:
            self._bar.reset(total=self.total or None)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _reason(e: Exception) -> str:
    """A short cause for a failed request (requests' own messages run to several lines)."""
    import requests

    exc = requests.exceptions
    if isinstance(e, exc.HTTPError) and e.response is not None:
        return f"HTTP {e.response.status_code}"
    if isinstance(e, exc.Timeout):
        return f"no answer within {TIMEOUT_S} s"
    if isinstance(e, exc.ChunkedEncodingError):
        return "the connection broke during the download"
    if isinstance(e, exc.ConnectionError):
        return "no connection to the server"
    return type(e).__name__


def is_archive(name: str) -> bool:
    return name.endswith(".zip") or name.endswith(TAR_SUFFIXES)


def unpacked_dir(archive: Path, sha256: str) -> Path:
    """Named after the archive's checksum: a changed archive never reuses stale files."""
    return archive.with_name(f"{archive.name}.{sha256[:12]}")


def unpack(archive: Path, sha256: str) -> Path:
    """The folder holding the files of a checked `archive`, unpacked on first use (into a
    temporary folder renamed at the end, so an interrupted unpack leaves nothing behind)."""
    import pooch

    folder = unpacked_dir(archive, sha256)
    if folder.is_dir():
        return folder
    tmp = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=archive.parent))
    try:
        if archive.name.endswith(".zip"):
            pooch.Unzip(extract_dir=str(tmp))(str(archive), "download", None)
        else:
            pooch.Untar(extract_dir=str(tmp))(str(archive), "download", None)
        os.replace(tmp, folder)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as e:
        raise DataError(f"cannot unpack {archive}: {e}") from None
    except OSError as e:
        if not folder.is_dir():  # else another process finished the same unpack first
            raise DataError(f"cannot unpack {archive}: {e.strerror or e}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())
