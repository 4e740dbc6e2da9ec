"""The probe registry: a probe a user's module registers codes labels through `preq` and
`twopart` like the built-in ones (real streams that decode back), and bad names are refused."""

from __future__ import annotations

import importlib.util
import sys
import textwrap

import pytest

from mdlbench import datasets
from mdlbench.compressors import Given, create
from mdlbench.errors import UsageError
from mdlbench.models import probes

PLUGIN = textwrap.dedent('''
    """A user's plugin: a bottleneck probe (features -> `hidden` tanh units -> logits)."""
    from torch import nn

    from mdlbench.models.probes import register_probe

    @register_probe("test_bottleneck", summary="tanh bottleneck", uses=("hidden",))
    def bottleneck(d, k, cfg):
        return nn.Sequential(nn.Linear(d, cfg.hidden), nn.Tanh(), nn.Linear(cfg.hidden, k))
''')


@pytest.fixture
def plugin(tmp_path):
    """Import the plugin file as a module (what --plugin does); unregister it afterwards."""
    path = tmp_path / "my_probe.py"
    path.write_text(PLUGIN)
    spec = importlib.util.spec_from_file_location("my_probe", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["my_probe"] = module
    spec.loader.exec_module(module)
    yield module
    probes.PROBES.pop("test_bottleneck", None)
    sys.modules.pop("my_probe", None)


def test_a_registered_probe_codes_labels(plugin):
    ds = datasets.load("logistic:n=300,d=5,k=3,seed=2")
    side = ds.labelled
    uniform = create("uniform").encode(ds.data, Given(side=side)).bits_ideal
    for spec in ("preq:model=test_bottleneck,hidden=4,epochs=30",
                 "twopart:model=test_bottleneck,hidden=4,epochs=30"):
        comp = create(spec)
        enc = comp.encode(ds.data, Given(side=side))
        assert create(spec).decode(enc.blob, Given(side=side)) == ds.data
        assert enc.bits_ideal < uniform  # a probe that learned something
    # the probe shapes the model: its parameter count is the bottleneck's, not logreg's
    twopart = create("twopart:model=test_bottleneck,hidden=4,epochs=5")
    enc = twopart.encode(ds.data, Given(side=side))
    assert enc.extras["params"] == 5 * 4 + 4 + 4 * 3 + 3


def test_registry_refuses_what_it_cannot_use(plugin):
    with pytest.raises(UsageError, match="test_bottleneck"):  # the error lists what exists
        create("preq:model=no_such_probe")
    with pytest.raises(UsageError, match="layers does not apply"):
        create("preq:model=test_bottleneck,layers=2")
    with pytest.raises(UsageError, match="hidden does not apply"):
        create("twopart:model=logreg,hidden=64")
    with pytest.raises(UsageError, match=r"probe 'test_bottleneck' is registered by my_probe "
                                         r"\(bottleneck\) and again by test_probes"):
        probes.register_probe("test_bottleneck")(lambda d, k, cfg: None)
    with pytest.raises(UsageError, match="uses"):
        probes.register_probe("other", uses=("width",))


def test_the_same_probe_again_is_a_no_op(plugin):
    """The one registration rule: the same factory again changes nothing."""
    before = probes.PROBES["test_bottleneck"]
    probes.register_probe("test_bottleneck", summary="again")(plugin.bottleneck)
    assert probes.PROBES["test_bottleneck"] is before


def test_workers_get_the_probes(plugin, fresh_registries):
    """A plugin's probe is in the snapshot a worker restores, like its compressors."""
    from mdlbench import plugins

    snap = plugins.snapshot()
    assert [e[:2] + e[3:] for e in snap.entries] == [
        ("probe", "module", "test_bottleneck", "bottleneck")]
    del probes.PROBES["test_bottleneck"]
    del sys.modules["my_probe"]
    plugins.restore(snap)
    assert probes.PROBES["test_bottleneck"].summary == "tanh bottleneck"


def test_a_probe_must_be_a_torch_module():
    probes.register_probe("test_not_a_module")(lambda d, k, cfg: "linear")
    try:
        from mdlbench.models.classifiers import TrainConfig, build

        with pytest.raises(TypeError, match="nn.Module"):
            build(TrainConfig(model="test_not_a_module"), 3, 2)
    finally:
        probes.PROBES.pop("test_not_a_module")
