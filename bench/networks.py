"""The benchmark networks of bench/sim_networks.py: each one a lowered integer graph the simulator
runs, built the way a user gets it.

* ``dense``: the 784-256-256-10 LIF network of bench/lava_vs_sim.py compiled for loihi2 (so Lava
  can run it too);
* ``digits_*``: examples/models/digits_*.nir compiled for fpga;
* ``pilotnet``: lava-dl 0.6.0's PilotNet LIF ``network.net`` (5 conv + 4 dense layers, 3x66x200
  input), ``snnc.load(..., skip_layers=1)`` -> loihi2 integer graph, driven by lava-dl's own
  recorded input-layer spikes (``gts/pilotnet_lif/input-s.npy``: 24 steps of a real frame, 89 %
  of the 3x66x200 values spiking; lava-dl's test feeds the same spikes to the same cut
  network); each sample of a batch starts at another step of the recording, repeated in time.
  Random 0/1 inputs cannot drive this network: its input layer (``skip_layers=0``) multiplies
  an input by 64 and keeps 3/4 of v per step, so v never passes 64 / (1 - 3/4) = 256, below the
  threshold 1600 -- a run on them has a silent input layer (the figures before 2026-12-06 10:00
  were measured that way);
* ``ntidigits``: lava-dl 0.6.0's NTIDIGITS ``ntidigits.net`` (64-256-256-242 dense with per-neuron
  axonal delays up to 62 steps); its last layer, an ``average`` readout that netx 0.6.0 does not
  build, is cut off (``num_layers=5``);
* ``sinabs``: /work/shared/models/cnn_sinabs.nir (2x34x34, 3 conv + 2 pool + 2 dense) compiled
  for fpga;
* ``sinabs_large``: a synthetic Sinabs-style conv net (2x128x128 DVS-size input, 4 conv + 3 sum
  pools + 2 dense) compiled for fpga.

The lava-dl files come from the wheel that tests/data_sources/lavadl_wheel.py fetches and caches.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

import snnc
from snnc.ir import nodes as N
from snnc.ir.graph import Graph
from snnc.passes.targets import make_config
from snnc.runtime.compile import compile_graph

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlp import lif as _lif  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED_MODELS = (REPO / ".." / "shared" / "models").resolve()
if not SHARED_MODELS.is_dir():
    SHARED_MODELS = Path("/work/shared/models")


@functools.lru_cache(maxsize=1)
def _wheel():
    path = REPO / "tests" / "data_sources" / "lavadl_wheel.py"
    spec = importlib.util.spec_from_file_location("snnc_lavadl_wheel", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.NetxGroundTruth(mod.wheel())


def _net(member: str, **options) -> Graph:
    folder = Path(tempfile.mkdtemp(prefix="snnc-bench-"))
    path = _wheel().extract(member, folder)
    try:
        return snnc.load(str(path), **options)
    finally:
        os.unlink(path)
        os.rmdir(folder)




def dense_float() -> Graph:
    sys.path.insert(0, str(HERE))
    from lava_vs_sim import network

    return network()


def sinabs_large_float(seed: int = 0) -> Graph:
    """2x128x128 -> conv 16 (5x5, stride 2) -> pool 2 -> conv 32 (3x3) -> pool 2 -> conv 32 (3x3)
    -> pool 2 -> conv 64 (3x3, stride 2) -> flatten -> 256 -> 11; LIF after every conv/dense."""
    rng = np.random.default_rng(seed)
    g = Graph(metadata={"dt": 1e-3})
    g.add_node("input", N.Input(shape=(2, 128, 128)))
    prev, c, hw = "input", 2, 128
    layers = [("conv", 16, 5, 2, 2), ("pool",), ("conv", 32, 3, 1, 1), ("pool",), ("conv", 32, 3, 1, 1), ("pool",),
              ("conv", 64, 3, 2, 1)]
    for k, spec in enumerate(layers):
        if spec[0] == "pool":
            g.add_node(f"pool{k}", N.SumPool2d(kernel_size=(2, 2), stride=(2, 2)))
            g.add_edge(prev, f"pool{k}")
            prev, hw = f"pool{k}", hw // 2
            continue
        _, co, ks, st, pd = spec
        w = (rng.standard_normal((co, c, ks, ks)) * 2.0 / np.sqrt(c * ks * ks)).astype(np.float32)
        g.add_node(f"conv{k}", N.Conv2d(weight=w, bias=np.zeros(co, np.float32), stride=(st, st), padding=(pd, pd),
                                        dilation=(1, 1), groups=1, input_shape=(hw, hw)))
        hw = (hw + 2 * pd - ks) // st + 1
        g.add_node(f"lif{k}", _lif((co, hw, hw)))
        g.add_edge(prev, f"conv{k}")
        g.add_edge(f"conv{k}", f"lif{k}")
        prev, c = f"lif{k}", co
    g.add_node("flat", N.Flatten(input_shape=(c, hw, hw)))
    g.add_edge(prev, "flat")
    prev, n = "flat", c * hw * hw
    for k, m in enumerate((256, 11)):
        g.add_node(f"fc{k}", N.Linear(weight=(rng.standard_normal((m, n)) * 2.0 / np.sqrt(n)).astype(np.float32)))
        g.add_node(f"flif{k}", _lif((m,)))
        g.add_edge(prev, f"fc{k}")
        g.add_edge(f"fc{k}", f"flif{k}")
        prev, n = f"flif{k}", m
    g.add_node("output", N.Output(shape=(11,)))
    g.add_edge(prev, "output")
    return g


def _compiled(graph: Graph, target: str) -> Graph:
    return compile_graph(graph, make_config(target))[0]


def _digits(name: str):
    return lambda: _compiled(snnc.load(str(REPO / "examples" / "models" / f"{name}.nir")), "fpga")


#: name -> (builder of the lowered graph, target it is lowered for, input spike rate)
NETWORKS = {
    "dense": (lambda: _compiled(dense_float(), "loihi2"), "loihi2", 0.2),
    **{d: (_digits(d), "fpga", 0.2) for d in ("digits_clif", "digits_cubalif", "digits_lif", "digits_lifb",
                                              "digits_lmht", "digits_lnm", "digits_rf")},
    "pilotnet": (lambda: _net("gts/pilotnet_lif/network.net", skip_layers=1), "loihi2", 0.3),
    "ntidigits": (lambda: _net("gts/ntidigits/ntidigits.net", num_layers=5), "loihi2", 0.1),
    "sinabs": (lambda: _compiled(snnc.load(str(SHARED_MODELS / "cnn_sinabs.nir")), "fpga"), "fpga", 0.2),
    "sinabs_large": (lambda: _compiled(sinabs_large_float(), "fpga"), "fpga", 0.1),
}


def build(name: str) -> tuple[Graph, str, float]:
    make, target, rate = NETWORKS[name]
    return make(), target, rate


def _pilotnet_spikes(graph: Graph, batch: int, steps: int, seed: int) -> dict[str, np.ndarray]:
    """lava-dl's recorded PilotNet input-layer spikes, (W, H, C, T) -> {input: int64 [batch,
    steps, C, H, W]}: sample b reads the recording from step (offset_b + t) mod 24, offsets
    drawn from ``seed``."""
    rec = np.transpose(_wheel().npy("gts/pilotnet_lif/input-s.npy"), (3, 2, 1, 0)).astype(np.int64)  # T C H W
    (name,) = graph.input_names()
    if rec.shape[1:] != tuple(graph.nodes[name].shape):
        raise ValueError(f"recorded spikes {rec.shape[1:]} do not fit input {graph.nodes[name].shape}")
    offsets = np.random.default_rng(seed).integers(0, rec.shape[0], batch)
    idx = (offsets[:, None] + np.arange(steps)[None, :]) % rec.shape[0]
    return {name: rec[idx]}


#: networks whose inputs are recorded data instead of random spikes at their rate
RECORDED_INPUTS = {"pilotnet": _pilotnet_spikes}


def inputs(name: str, graph: Graph, batch: int, steps: int, seed: int, rate: float) -> dict[str, np.ndarray]:
    """The benchmark input of network ``name``: {input: int64 [batch, steps, *shape]} (recorded
    data where the network has some, else Bernoulli spikes at ``rate``)."""
    if name in RECORDED_INPUTS:
        return RECORDED_INPUTS[name](graph, batch, steps, seed)
    from snnc.runtime.vectors import random_inputs

    return random_inputs(graph, batch, steps, seed=seed, rate=rate)
