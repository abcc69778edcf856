"""Spyx's neurons (IF, LIF, CuBaLIF and their recurrent forms) read with ``preset='spyx'``: the spikes
equal Spyx's own forward pass (``spyx.nn.run``) step for step; the refusals name what to change."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from snnc.backends.sim import simulate
from snnc.frontend.frameworks import from_framework
from snnc.ir.errors import ParameterError, UnsupportedError

pytest.importorskip("spyx.nn")
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning")]

SAMPLE = {"input_shape": {"input": np.array([5])}, "output_shape": {"output": np.array([6])}}


def _mlp(kind: str, seed: int):
    import spyx.nn as snn
    from flax import nnx

    rngs = nnx.Rngs(seed)
    make = {"IF": lambda: snn.IF((6,), threshold=1.5), "LIF": lambda: snn.LIF((6,), rngs=rngs),
            "CuBaLIF": lambda: snn.CuBaLIF((6,), rngs=rngs), "RIF": lambda: snn.RIF((6,), rngs=rngs),
            "RLIF": lambda: snn.RLIF((6,), rngs=rngs), "RCuBaLIF": lambda: snn.RCuBaLIF((6,), rngs=rngs),
            "PSU_LIF": lambda: snn.PSU_LIF((6,), threshold=2.0, rngs=rngs)}
    net = snn.Sequential(nnx.Linear(5, 6, rngs=rngs), make[kind]())
    net.layers[0].kernel[...] = 2.0 * net.layers[0].kernel[...]
    return net


def _spyx_run(net, x):
    import jax.numpy as jnp
    import spyx.nn as snn

    y, _ = snn.run(net, jnp.asarray(np.moveaxis(x, 1, 0)))
    return np.moveaxis(np.asarray(y), 0, 1)


def _import(net, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return from_framework(net, SAMPLE, "spyx", **options)


@pytest.mark.parametrize("kind", ["IF", "LIF", "CuBaLIF", "RIF", "RLIF", "RCuBaLIF", "PSU_LIF"])
def test_spikes_equal_spyx_forward(kind):
    net = _mlp(kind, seed=len(kind))
    graph = _import(net)
    x = (np.random.default_rng(3).random((3, 25, 5)) < 0.5).astype(np.float32)
    ref = _spyx_run(net, x)
    out = simulate(graph, x.astype(np.float64)).outputs[graph.output_names()[0]].reshape(ref.shape)
    assert 0 < ref.sum() < ref.size, "vacuous: no spikes or all spikes"
    assert np.array_equal(out, ref), f"{int((out != ref).sum())} of {ref.size} values differ"
    if kind != "PSU_LIF":      # the others fire from the previous step's membrane: silent at step 0
        assert not ref[:, 0].any()


def test_recurrent_export_input_moved_off_w_rec():
    """Spyx's exporter writes input -> w_rec -> lif; the preset feeds the input to the neuron."""
    graph = _import(_mlp("RLIF", seed=1))
    lif = next(n for n, node in graph.nodes.items() if node.type_name == "LIFB")
    w_rec = next(n for n in graph.nodes if n.endswith("w_rec"))
    assert [e.src for e in graph.in_edges(w_rec)] == [lif]
    assert sorted(e.src for e in graph.in_edges(lif)) == sorted(["layer_0", w_rec])
    assert any("input moved" in note for note in graph.metadata["import_notes"])


def test_lif_beta_zero_names_beta():
    import spyx.nn as snn
    from flax import nnx

    net = snn.Sequential(nnx.Linear(5, 6, rngs=nnx.Rngs(0)), snn.LIF((6,), beta=0.0, rngs=nnx.Rngs(0)))
    with pytest.raises((ParameterError, UnsupportedError), match="beta"):
        _import(net)


def test_flatten_not_into_linear_names_what_to_change():
    import spyx.nn as snn
    from flax import nnx

    rngs = nnx.Rngs(0)
    net = snn.Sequential(nnx.Conv(1, 2, (3, 3), padding="VALID", rngs=rngs), snn.Flatten(),
                         snn.LIF((8,), beta=0.9, rngs=rngs))
    sample = {"input_shape": {"input": np.array([1, 4, 4])}, "output_shape": {"output": np.array([8])}}
    with pytest.raises(UnsupportedError, match="put the Linear right after spyx.nn.Flatten"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from_framework(net, sample, "spyx")
