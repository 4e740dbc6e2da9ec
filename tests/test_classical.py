"""Classical codecs' own properties (round trips, damage and self-description of every codec are
in tests/test_compressors.py): PPMd streams carry the parameters their decoder needs."""

from __future__ import annotations

import sys

import pytest

from mdlbench import api
from mdlbench.compressors import create
from mdlbench.compressors.classical import ppmd_header, read_ppmd_header
from mdlbench.errors import CorruptStreamError

TEXT = b"It was the best of times, it was the worst of times. " * 60


@pytest.mark.parametrize("spec", ["ppmd:order=2,mem=1", "ppmd:order=8,mem=64",
                                  "ppmd:order=64,mem=129,variant=H", "ppmd:variant=H"])
def test_ppmd_stream_is_header_plus_pyppmd_output(spec: str) -> None:
    """bits = header + pyppmd's unchanged stream, and a default-built decoder reads any one."""
    import pyppmd

    comp = create(spec)
    c = comp.config
    raw = comp.compress(TEXT)
    head = ppmd_header(c["order"], c["mem"], c["variant"])
    assert raw.startswith(head) and len(head) == 1 + (c["mem"] > 1) + (c["mem"] > 128)
    if c["variant"] == "I":
        assert raw[len(head):] == pyppmd.compress(TEXT, max_order=c["order"],
                                                  mem_size=c["mem"] << 20, variant="I")
    assert read_ppmd_header(raw)[:3] == (c["order"], c["mem"], c["variant"])
    assert create("ppmd").decompress(raw) == TEXT


def test_ppmd_header_naming_impossible_parameters_is_corrupt() -> None:
    body = create("ppmd:order=8,mem=64").compress(TEXT)[2:]
    for blob in (bytes([0x80 | 63 << 1, 0x00]) + body,  # order 65
                 bytes([0x80, 0xFF, 0x0F]) + body,      # 2048 MB
                 bytes([0x80, 0x80])):                  # cut off inside the header
        with pytest.raises(CorruptStreamError):
            create("ppmd").decompress(blob)


def test_cli_encode_then_decode_with_no_spec(tmp_path, monkeypatch, capsys) -> None:
    """issue #10: `mdlbench encode -c ppmd:order=8,mem=64 f s && mdlbench decode s out`."""
    from mdlbench import cli

    f, s, out = tmp_path / "f", tmp_path / "s", tmp_path / "out"
    f.write_bytes(TEXT)
    for argv in (["encode", "-c", "ppmd:order=8,mem=64", str(f), str(s)],
                 ["decode", str(s), str(out)]):
        monkeypatch.setattr(sys, "argv", ["mdlbench", *argv])
        try:
            cli.main()
        except SystemExit as e:
            assert e.code in (0, None), capsys.readouterr().err
    assert out.read_bytes() == TEXT
    assert api.decode_bytes(s.read_bytes()) == TEXT
