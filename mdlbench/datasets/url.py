"""Any file on the web as a dataset: ``url:https://host/file,sha256=HEX[,unpack=true][,head=N]``.

A URL may itself hold ':', ',' and '=' (a port, a query string), so this spec is parsed from the
right: trailing ``,key=value`` items whose key is one of the parameters below are options, and
everything before them is the URL. A file is used only with its sha256: without one, `mdlbench
fetch url:…` downloads it and prints its sha256, for the user to check against a source they
trust, and `run` refuses it.

A URL may carry credentials (``http://user:password@host/…``, ``?token=…``): they are used for the
download only. The dataset's name, description and source, and so every record, table, progress
line and error message, hold the URL as `download.redact` leaves it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..errors import DataError, UsageError
from ..params import Param, canonical
from .base import URL_PREFIX as PREFIX
from .base import Dataset, DatasetLoader, register_dataset, take_head
from .download import (
    Remote,
    cache_root,
    check_sha256,
    file_sha256,
    is_archive,
    redact,
    retrieve,
    tidy,
    unpack,
)
from .files import load_path, read_file

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def parse(text: str) -> dict[str, str]:
    """``url:URL[,key=value...]`` -> {"url": URL, key: value, ...} (values still strings)."""
    rest = text.strip()[len(PREFIX):].strip()
    options: dict[str, str] = {}
    names = {p.name for p in Url.params} - {"url"}
    while True:
        before, comma, item = rest.rpartition(",")
        key, eq, value = item.partition("=")
        key = key.strip()
        if not comma or not eq or key not in names:
            break
        if key in options:
            shown = PREFIX + redact(text.strip()[len(PREFIX):])
            raise UsageError(f"bad spec {shown!r}: parameter {key!r} given twice")
        options[key] = value.strip()
        rest = before
    return {"url": rest.strip(), **options}


@register_dataset
class Url(DatasetLoader):
    name = "url"
    kind = "url"
    summary = ("any file on the web, checked against its sha256: url:https://…,sha256=HEX "
               "(unpack=true: a .zip or .tar archive's files)")
    params = (
        Param("url", str, "", "http:// or https:// address of the file"),
        Param("sha256", str, "", "the file's sha256, from a source you trust (required to use it)"),
        Param("unpack", bool, False, "the file is a .zip/.tar(.gz|.bz2|.xz) archive: use its "
              "files, in sorted order"),
        Param("head", int, 0, "only the first N bytes (0: all), for slow coders", min=0),
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.config["sha256"]:
            self.config["sha256"] = check_sha256(self.config["sha256"], "dataset url")

    @property
    def spec(self) -> str:
        """``url:URL,key=value``: the form `parse` reads back (not the generic name:k=v), with
        the URL redacted: the spec names the dataset in records and messages."""
        options = canonical("", self.params[1:], self.config)
        return PREFIX + self.shown + ("," + options[1:] if options else "")

    @property
    def shown(self) -> str:
        """The URL as it may be shown or stored (download.redact)."""
        return redact(self.config["url"])

    def remote(self, verified: bool = True) -> Remote:
        url = self.config["url"]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"dataset url: {self.shown!r} is not an http:// or https:// "
                             "address")
        name = _SAFE.sub("_", unquote(parts.path.rstrip("/").rpartition("/")[2]))
        if not name.strip("."):  # "", "." or "..": no file name of its own (nor a path)
            name = "download"
        if self.config["unpack"] and not is_archive(name):
            raise UsageError(f"dataset url: unpack=true needs a .zip or .tar archive, not {name!r}")
        sha = self.config["sha256"]
        if not sha and verified:
            raise DataError(f"{self.spec} has no sha256, so it is not used: add ,sha256=HEX from a "
                            f"source you trust (`mdlbench fetch '{self.spec}'` downloads the file "
                            "and prints its sha256)")
        return Remote(url, name, sha or None)

    def folder(self) -> Path:
        """One folder per URL: a new sha256 for the same URL replaces the file in it. Named after
        the redacted URL, so a renewed token (a pre-signed URL's signature) reuses the file;
        the sha256 checks it still."""
        return cache_root() / "url" / hashlib.sha256(self.shown.encode()).hexdigest()[:16]

    def load(self) -> Dataset:
        remote = self.remote()
        assert remote.sha256 is not None  # remote() refuses a file without one
        with tidy(self.folder()):
            path = retrieve(remote, self.folder())
            if self.config["unpack"]:
                parts = load_path(unpack(path, remote.sha256)).parts
            else:
                parts = [(remote.file, read_file(path))]
                if not parts[0][1]:
                    raise DataError(f"input is empty: {self.shown}")
        return Dataset(name=self.spec, parts=take_head(parts, self.config["head"]), kind="url",
                       description=f"downloaded from {self.shown}", source=self.shown)

    def fetch(self) -> dict[str, Any]:
        """Download now (`mdlbench fetch`); without a sha256, report the file's for checking."""
        remote = self.remote(verified=False)
        if remote.sha256 is not None:
            ds = self.load()
            return {"name": self.spec, "path": str(self.folder()), "files": len(ds.parts),
                    "size": ds.size, "sha256": True}
        with tidy(self.folder()):
            path = retrieve(remote, self.folder())
        return {"name": self.spec, "path": str(path), "files": 1, "size": path.stat().st_size,
                "sha256": False, "actual_sha256": file_sha256(path)}

    def listing(self) -> dict[str, Any]:
        return {**super().listing(), "present": ""}
