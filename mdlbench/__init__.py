"""mdlbench: total description length in bits, from real bitstreams that decode back."""

__version__ = "0.1.0"


def __getattr__(name: str):  # lazy: `import mdlbench` stays cheap, `mdlbench.run` works
    if name in ("run", "compare", "table", "report", "records", "gate", "encode_bytes",
                "decode_bytes", "catalogue", "plot", "html_report"):
        from . import api

        return getattr(api, name)
    if name == "errors":
        from . import errors

        return errors
    raise AttributeError(name)
