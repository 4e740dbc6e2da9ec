"""mdlbench: total description length in bits, from real bitstreams that decode back."""

__version__ = "0.1.0"


def __getattr__(name: str):  # lazy: `import mdlbench` stays cheap, `mdlbench.run` works
    if name in ("run", "compare", "gate", "encode_bytes", "decode_bytes", "catalogue"):
        from . import api

        return getattr(api, name)
    raise AttributeError(name)
