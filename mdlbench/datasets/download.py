"""Files fetched on first use into the user's data cache, checked, unpacked and reused.

pooch downloads each file under a temporary name and moves it into place only when its sha256
matches, so a truncated or wrong download is never kept or used; it checks the file again on
every later use. An archive is unpacked once, into a folder beside it named after its checksum,
by archive.py (never by pooch's unpackers, which follow links and `..` out of the cache): one
hostile member refuses the whole archive, and the archive is deleted. Folders made for a download
or unpack that fails are removed again (`tidy`). Without a network the error says which file to
put where. A URL is shown and stored only through `redact` (no user:password@, no token-like
parameter values).

The cache is the user's cache folder (platformdirs: ~/.cache/mdlbench on Linux), or
$MDLBENCH_DATA when set: one folder per corpus, and url/ for `url:` datasets.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from ..errors import DataError, MdlbenchError, UsageError
from .archive import extract

ENV = "MDLBENCH_DATA"
TIMEOUT_S = 60
"""Seconds without an answer from the server before a download fails."""
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
REDACTED = "REDACTED"
_BARS: ContextVar[bool] = ContextVar("mdlbench_download_bars", default=True)
"""False inside `quiet()`: a download draws no bar even on a terminal."""
SECRET_PARAMS = frozenset({
    "token", "access_token", "refresh_token", "id_token", "auth", "auth_token", "authorization",
    "key", "api_key", "apikey", "access_key", "secret", "client_secret", "password", "passwd",
    "pwd", "pass", "sig", "signature", "credential", "credentials", "session", "sessionid",
    "jsessionid", "jwt", "key_pair_id", "policy",
})
"""Query (or fragment, or ;path) parameters whose values are credentials, compared in lower
case with '-' read as '_'; also every name ending in one of `SECRET_SUFFIXES`, and every
X-Amz-*, X-Goog-* and X-Ms-* parameter (pre-signed S3, GCS and Azure URLs)."""
SECRET_SUFFIXES = ("token", "secret", "password", "signature", "credential", "_key")
SECRET_PREFIXES = ("x_amz_", "x_goog_", "x_ms_")
_PARAM = re.compile(r"([?&;#])([^=&;#]*)=([^&;#]*)")


def cache_root() -> Path:
    """Where downloaded datasets live: $MDLBENCH_DATA, else the user's cache folder."""
    env = os.environ.get(ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("mdlbench", appauthor=False))


def secret_param(name: str) -> bool:
    key = unquote_plus(name).strip().lower().replace("-", "_")
    return (key in SECRET_PARAMS or key.endswith(SECRET_SUFFIXES)
            or key.startswith(SECRET_PREFIXES))


def redact(url: str) -> str:
    """`url` fit to show or store: without its user:password@, and with the value of every
    credential-like parameter (`SECRET_PARAMS`) replaced by REDACTED. Every label, record,
    message and progress line that names a URL goes through here; only the download itself
    uses the URL as given. A secret in the path itself cannot be told apart from a file name."""
    scheme, sep, rest = url.partition("://")
    if sep:
        netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
        url = scheme + sep + netloc.rpartition("@")[2] + rest[len(netloc):]
    return _PARAM.sub(lambda m: f"{m[1]}{m[2]}={REDACTED}" if secret_param(m[2]) else m[0], url)


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

    url: str = field(repr=False)
    """As given, credentials and all: for the download only (show `redact(url)`)."""
    file: str
    sha256: str | None
    """None only for `mdlbench fetch` of a url: dataset, which reports the hash and uses nothing."""
    size: int | None = None

    def describe(self) -> str:
        facts = ([f"{self.size:,} B"] if self.size else []) + (
            [f"sha256 {self.sha256}"] if self.sha256 else [])
        return f"{self.file} ({', '.join(facts)})" if facts else self.file


@contextmanager
def quiet(on: bool = True) -> Iterator[None]:
    """Downloads started inside draw no progress bar when `on` (a run whose display is off,
    `mdlbench run -q`), so a quiet run is quiet on a terminal too."""
    token = _BARS.set(not on)
    try:
        yield
    finally:
        _BARS.reset(token)


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
        raise DataError(f"cannot download {redact(remote.url)}: {_reason(e)}. To do without the "
                        f"download, put {remote.describe()} at {target}{stale} and run again"
                        ) from None
    except ValueError:  # pooch's hash check: the temporary file is already deleted
        raise DataError(f"the download of {redact(remote.url)} does not match its sha256 "
                        f"{remote.sha256} (truncated, or changed upstream): not kept, not used"
                        ) from None
    except OSError as e:
        raise DataError(f"cannot write {target}: {e.strerror or e} (set {ENV} to a writable "
                        "folder)") from None
    finally:
        bar.close()


class ProgressBar:
    """pooch's progress-bar protocol (total, update, reset, close) over a tqdm bar that is drawn
    only once bytes arrive, only on a terminal (a log or a pipe gets no bar lines) and never
    inside `quiet()`, and whose line is ended before any error is printed."""

    def __init__(self, label: str) -> None:
        self.total = 0
        self.label = label
        self._bar: Any = None

    def update(self, n: int) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=self.total or None, unit="B", unit_scale=True,
                             desc=self.label, leave=True,
                             disable=None if _BARS.get() else True)
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
    """The folder holding the files of a checked `archive`, unpacked on first use by
    archive.extract (only regular files and folders inside it, within the size limits, into a
    temporary folder renamed at the end). An archive refused there is deleted: it is never
    used, and a later run downloads it again rather than trusting it."""
    folder = unpacked_dir(archive, sha256)
    if folder.is_dir():
        return folder
    try:
        extract(archive, folder)
    except MdlbenchError as e:
        archive.unlink(missing_ok=True)
        raise type(e)(f"{e}; the archive is not kept") from None
    return folder


@contextmanager
def tidy(folder: Path) -> Iterator[None]:
    """Remove what a failed download or unpack into `folder` leaves empty: `folder` and the
    folders above it inside the cache, and the cache folder itself when this call made it.
    Only empty folders go (rmdir), so nothing another download keeps there is touched."""
    root = cache_root()
    made_root = not root.exists()
    try:
        yield
    except BaseException:
        p = folder
        while root in p.parents:
            try:
                p.rmdir()
            except OSError:
                break
            p = p.parent
        if made_root:
            with suppress(OSError):
                root.rmdir()
        raise


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())
