"""The float simulator against the exporting frameworks' own NIR importers (issue 2, item 4).

For the real models in ../shared/models (both braille graphs, ``lif_norse.nir``, ``cnn_sinabs.nir``)
each test loads the file with a framework's importer (Norse ``norse.torch.from_nir``, snnTorch
``import_from_nir`` or its per-node converter, Sinabs ``sinabs.nir.from_nir``), runs it step by
step on random inputs (seeds 0-2, batch > 1, 20-60 steps) and compares with
``simulate(discretize(snnc.load(path, ...)))`` at every step:

* spikes (every spiking node): ``np.array_equal``;
* states (synaptic current ``i``, membrane ``v``) and the outputs of the synapse nodes:
  ``max |snnc - ref| <= rtol * max |ref|`` per node. snnc runs in float64 (its default); the
  frameworks run in float32, as their importers build them: ``rtol = 1e-5``. float32 has a unit
  roundoff of 6e-8; a step costs a few roundings, and over these runs the observed error is at
  most 2.5e-7 of the node's range for Norse and snnTorch and 7e-7 for Sinabs (whose clamp
  ``relu(v + thr) - thr`` rounds v in every step; the IF layers integrate without leak, so
  errors add up instead of decaying). 1e-5 leaves a margin of more than 10x and still catches
  any modelling difference, whose size is that of a weight or of an input (>= 1e-2 here).
  Norse is also run in float64 (``_to_tensor`` patched to keep float64): there the two
  implementations agree to 4e-16, and ``rtol = 1e-12``.

Conventions of each framework (files in site-packages of the main env; versions norse 1.1.0,
snntorch 1.0.0, sinabs 3.1.3, nirtorch 2.6) and what snnc does:

* **Edges and recurrence.** Norse and Sinabs run through the deprecated ``nirtorch.load``
  ``GraphExecutor``: nodes in depth-first order from the input (``nirtorch/graph_utils.py:88``),
  feed-forward edges without latency, an input not computed yet in this step is the previous
  step's output (``nirtorch/graph_executor.py:119``); at step 0 it is missing (not zero, not the
  bias). snnc's import (``time_convention='nirtorch'``) puts delay 1 on the edge that closes the
  cycle, ``lif1.w_rec -> lif1.lif``: identical, including the missing ``w_rec`` bias at step 0.
  snnTorch wraps the cycle into ``RSynaptic``, whose synapse adds ``recurrent(spk)`` with
  ``spk = 0`` at step 0 (``snntorch/_neurons/rsynaptic.py:422``): the recurrent *bias* does
  reach step 0, i.e. the delay sits on the spike edge ``lif1.lif -> lif1.w_rec``. The snnTorch
  tests move snnc's delay there (:func:`_delay_on_spike_edge`). With snnc's default the
  ``bias_zero`` graph's lif1 membrane differs from snnTorch's by 1.68 at step 0 (the missing
  ``w_rec`` bias) and by up to 6.9 later; the spikes differ for seeds 0 and 1.
* **Norse** (``norse/torch/utils/import_nir.py``): ``dt`` defaults to 1e-3 (l.154), not 1e-4, so
  it is passed explicitly. LIF / CubaLIF: forward Euler, ``v += dt/tau (v_leak - v + x)``
  (``functional/lif_box.py:95``), CubaLIF = ``w_in * x`` -> LIBox(tau_syn) -> ``* r`` -> LIFBox
  (l.50-52, ``functional/leaky_integrator_box.py:89``); spike ``v - v_th > 0`` (strict,
  ``functional/heaviside.py:20``); reset in the same step, to 0 (``reset_value``) or by
  subtraction with ``from_nir(reset_method=reset_subtract)`` (``functional/reset.py:19,25``),
  used for the ``subtract`` braille graph (snnc: ``reset='subtract'``). Differences that these
  models do not exercise: the importer ignores ``v_reset`` (always 0) and ``r`` of LIF/IF (warns),
  the LIF path ignores ``reset_method``, the CubaLIF synapse gets the neuron's ``v_leak``, and v
  starts at ``v_leak`` (``module/lif_box.py:47``; snnc starts at 0). IF: ``IAFCell``,
  ``v += x`` (dt ignored, ``functional/iaf.py:93``), reset to 0 = snnc's default
  ``integrator='per_step'``, ``reset='zero'``. ``Flatten(start_dim=0)`` becomes
  ``torch.nn.Flatten(0, -1)`` (l.86), which also flattens the batch axis (NIR's dims exclude
  it), so the CNN runs one sample at a time without a batch axis.
* **snnTorch** (``snntorch/import_nir.py``): ``dt = 1e-4`` hard-coded (l.243, 279, 384); CubaLIF ->
  ``Synaptic(alpha = 1 - dt/tau_syn, beta = 1 - dt/tau_mem)``: ``syn = alpha syn + x;
  mem = beta mem + syn`` (``_neurons/synaptic.py:267``), i.e. input gain ``w_in dt/tau_syn`` and
  membrane gain ``r dt/tau_mem`` are taken as 1 when ``np.allclose`` to 1 (else folded into the
  threshold, l.291-293): the braille files have 1.00000003 and 0.99999976, within tolerance.
  Reset is hard-coded ``'zero'`` with ``reset_delay=False`` (l.316, 434), also for the graph
  trained with subtraction. Spike ``mem - thr > 0`` (``surrogate.py:190``). With
  ``reset_delay=False`` and ``'zero'`` the reset is in the same step (``mem - do_reset * mem``,
  ``synaptic.py:257``) = snnc's. LIF -> ``Leaky(beta = 1 - dt/tau, threshold = v_thr / (r dt/tau))``
  (l.250-256): snnTorch's ``mem`` is snnc's ``v`` divided by ``r dt/tau`` (0.04 for
  ``lif_norse``). IF -> ``Leaky(beta=0.9, init_hidden=False)`` whatever the file says (l.234-239):
  leaky, and its tuple output breaks the next layer, so ``cnn_sinabs`` does not run in snnTorch.
  ``import_from_nir`` fails on both braille graphs (nirtorch 2.6 recurses into the RSynaptic
  subgraph and calls ``.items()`` on a GraphModule, ``nirtorch/nir_interpreter.py:310``), and
  ``RSynaptic`` with ``reset_delay=False`` reads the *arguments* ``spk``/``mem`` instead of
  ``self.spk``/``self.mem`` (``rsynaptic.py:369-375``): a TypeError with ``init_hidden=True``, no
  same-step reset at all otherwise (the reset comes one step late, as with ``reset_delay=True``).
  The braille tests therefore build the network from snnTorch's own per-node converter
  (``_nir_to_snntorch_module``: Linear, Synaptic) with the recurrence RSynaptic documents
  (``rsynaptic.py:418-425``); for subtraction they make a new ``Synaptic``, because the
  ``reset_mechanism`` setter does not update the ``state_function`` chosen in ``__init__``
  (``synaptic.py:192-194``). snnTorch's reset by subtraction with
  ``reset_delay=False`` is not plain subtraction: ``do_reset = spk - reset`` (``synaptic.py:252``)
  where ``reset = [mem_{t-1} > thr]`` (l.235) was already subtracted in the state update
  (l.278): the membrane update equals ``v = h - z*thr``, but a neuron whose membrane is still
  above threshold after its reset needs ``h > 2*thr`` to fire in the next step (snnc and Norse:
  ``h > thr``). :func:`test_snntorch_braille_subtract` checks that this is the only difference.
* **Sinabs** (``sinabs/nir.py``): IF -> ``IAFSqueeze(spike_threshold=v_thr, min_v_mem=-v_thr)``
  (l.87-92; ``r``, ``v_reset`` and dt ignored) with the IAF defaults ``spike_fn=MultiSpike``,
  ``reset_fn=MembraneSubtract()`` (``layers/iaf.py:52-53``): ``v += x`` (alpha 1,
  ``layers/functional/lif.py:30``), ``n = (v > 0) * trunc(v / thr)`` spikes *per step*
  (``activation/spike_generation.py:39``), ``v -= n * thr`` (``reset_mechanism.py:45``), then
  ``v = relu(v - min_v_mem) + min_v_mem`` after the reset (``functional/lif.py:43``). snnc's
  ``v_min`` clamps before the threshold test; for ``v_min <= 0 < thr`` both give the same v
  (after a spike ``v >= 0``), up to the rounding of Sinabs's ``relu(v - m) + m``. The
  single-spike case (``SingleSpike``: ``v - thr >= 0``, l.122) is matched by
  ``snnc.load(reset='subtract', v_min={IF: -v_thr})`` plus comparison ``'>='`` (no import option
  for that; NIR says ``>``; it matters only when v equals the threshold exactly). Sinabs's
  default multi-spike output has no snnc import mode: the IR's count neuron ``LIFB`` (leak 1,
  ``max_burst`` above the largest count, ``reset='subtract'``, ``'>='``) reproduces it exactly
  when the ``min_v_mem`` clamp is off (LIFB has no lower bound), see
  :func:`test_sinabs_multispike_is_lifb_count_neuron`.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

import snnc
from snnc.backends.sim import simulate
from snnc.ir import nodes as N
from snnc.ir.graph import Edge, Graph
from snnc.passes import discretize

torch = pytest.importorskip("torch")
nir = pytest.importorskip("nir")

# Tests that must run in the main env carry the `torch` marker (SNNC_REQUIRE=torch turns their
# skips into failures). The xfail tests do not: conftest's hook counts an xfail as a skip.
pytestmark = pytest.mark.filterwarnings("ignore:nirtorch.load is being deprecated:DeprecationWarning")

DT = 1e-4
SEEDS = (0, 1, 2)
RTOL = {"float32": 1e-5, "float64": 1e-12}
BRAILLE = {"braille_noDelay_bias_zero.nir": "zero", "braille_noDelay_noBias_subtract.nir": "subtract"}


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


def _assert_spikes(name: str, got: np.ndarray, ref: np.ndarray) -> None:
    assert got.shape == ref.shape, f"{name}: shape {got.shape} != {ref.shape}"
    if not np.array_equal(got, ref):
        bad = np.argwhere(got != ref)
        pytest.fail(f"{name}: {len(bad)} spikes differ, first at (b, t, ...) = {tuple(int(i) for i in bad[0])}: "
                    f"snnc {got[tuple(bad[0])]} vs reference {ref[tuple(bad[0])]}")


def _assert_close(name: str, got: np.ndarray, ref: np.ndarray, rtol: float) -> None:
    assert got.shape == ref.shape, f"{name}: shape {got.shape} != {ref.shape}"
    scale = float(np.abs(ref).max()) or 1.0
    err = float(np.abs(got - ref).max())
    assert err <= rtol * scale, f"{name}: max |snnc - ref| = {err:.3g} > {rtol:g} * max |ref| = {rtol * scale:.3g}"


def _run_snnc(graph: Graph, x: np.ndarray):
    if graph.metadata.get("level") != "discrete":
        graph = discretize(graph)
    return simulate(graph, x, record="all", record_states=True)


def _braille_input(seed: int, batch: int = 4, steps: int = 50) -> np.ndarray:
    """Events on the 12 sensor channels (rate 0.3) with random amplitudes in [0.5, 2.5)."""
    rng = np.random.default_rng(seed)
    events = rng.random((batch, steps, 12)) < 0.3
    return (events * rng.uniform(0.5, 2.5, events.shape)).astype(np.float32)


def _cnn_input(seed: int, batch: int = 2, steps: int = 20) -> np.ndarray:
    """N-MNIST-like binary events, 2 polarities x 34 x 34, rate 0.15."""
    rng = np.random.default_rng(seed)
    return (rng.random((batch, steps, 2, 34, 34)) < 0.15).astype(np.float32)


def _delay_on_spike_edge(graph: Graph) -> Graph:
    """Move each recurrent delay from ``synapse -> neuron`` to the synapse's input edge
    ``neuron -> synapse`` (snnTorch's RSynaptic convention: the recurrent synapse sees the
    spikes of step t-1, zero at step 0, so its bias reaches step 0)."""
    out = graph.copy()
    for e in [e for e in out.edges if e.delay]:
        ins, outs = out.in_edges(e.src), out.out_edges(e.src)
        assert len(ins) == 1 and len(outs) == 1 and ins[0].delay == 0, "not a lone recurrent synapse"
        out.edges[out.edges.index(ins[0])] = Edge(ins[0].src, ins[0].dst, e.delay)
        out.edges[out.edges.index(e)] = Edge(e.src, e.dst, 0)
    return out


def _if_nodes(graph: Graph) -> list[str]:
    return [n for n, node in graph.nodes.items() if isinstance(node, N.IF)]


# ------------------------------------------------------------------------------------------
# Norse
# ------------------------------------------------------------------------------------------


@pytest.fixture(params=["float32", "float64"])
def norse_precision(request, monkeypatch):
    """float32: Norse as its importer builds it. float64: ``_to_tensor`` keeps float64, so
    the only differences left are the order of floating-point operations."""
    pytest.importorskip("norse")
    if request.param == "float64":
        from norse.torch.utils import import_nir as norse_import

        def to_tensor64(t):
            return t.double() if isinstance(t, torch.Tensor) else torch.as_tensor(np.asarray(t, np.float64))

        monkeypatch.setattr(norse_import, "_to_tensor", to_tensor64)
    return request.param


def _norse_net(path, **kw):
    import norse.torch

    return norse.torch.from_nir(nir.read(str(path)), **kw)


def _norse_steps(net, x: np.ndarray, dtype: str, *, batched: bool = True):
    """One call per step on ``x`` [B, T, ...] (``batched=False``: [T, ...], steps without a
    batch axis). Returns {node: outputs stacked along the time axis}, {node: [state per step]}."""
    xs = torch.from_numpy(x.astype(dtype))
    axis = 1 if batched else 0
    outs: dict[str, list] = {}
    states: dict[str, list] = {}
    state = None
    with torch.no_grad():
        for t in range(x.shape[axis]):
            _, state = net(xs[:, t] if batched else xs[t], state)
            for k, v in state.cache.items():
                outs.setdefault(k, []).append(_np(v))
            for k, v in state.state.items():
                states.setdefault(k, []).append(v)
    return {k: np.stack(v, axis) for k, v in outs.items()}, states


@pytest.mark.torch
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fname", sorted(BRAILLE))
def test_norse_braille(shared_models, fname, seed, norse_precision):
    from norse.torch.functional.reset import reset_subtract, reset_value

    reset = BRAILLE[fname]
    path = shared_models / fname
    x = _braille_input(seed)
    net = _norse_net(path, dt=DT, reset_method=reset_subtract if reset == "subtract" else reset_value)
    outs, states = _norse_steps(net, x, norse_precision)
    tr = _run_snnc(snnc.load(path, dt=DT, reset=reset), x)
    rtol = RTOL[norse_precision]
    for name in ("fc1", "lif1.w_rec", "fc2"):
        _assert_close(name, tr.outputs[name], outs[name.replace(".", "_")], rtol)
    for name in ("lif1.lif", "lif2"):
        key = name.replace(".", "_")
        assert outs[key].any(), f"{name} never spikes: the check would be vacuous"
        _assert_spikes(name, tr.outputs[name], outs[key])
        syn = np.stack([_np(s[0][0].v) for s in states[key]], 1)   # (LIBoxState, LIFBoxFeedForwardState)
        mem = np.stack([_np(s[0][1].v) for s in states[key]], 1)
        _assert_close(f"{name}.i", tr.states[f"{name}.i"], syn, rtol)
        _assert_close(f"{name}.v", tr.states[f"{name}.v"], mem, rtol)


@pytest.mark.torch
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dt", [1e-4, 1e-3])
def test_norse_lif(shared_models, dt, seed, norse_precision):
    """One LIF neuron (tau = 2.5 ms) exported by Norse, at two dt: b = dt/tau = 0.04 and 0.4."""
    path = shared_models / "lif_norse.nir"
    x = np.random.default_rng(seed).normal(0.3, 1.0, (5, 60, 1)).astype(np.float32)
    outs, states = _norse_steps(_norse_net(path, dt=dt), x, norse_precision)
    tr = _run_snnc(snnc.load(path, dt=dt), x)
    assert outs["1"].any()
    _assert_spikes("1", tr.outputs["1"], outs["1"])
    _assert_close("1.v", tr.states["1.v"], np.stack([_np(s[0].v) for s in states["1"]], 1), RTOL[norse_precision])


@pytest.mark.torch
@pytest.mark.parametrize("seed", SEEDS)
def test_norse_cnn(shared_models, seed, norse_precision):
    """Norse reads the IF nodes as IAFCell (v += x, reset to 0): snnc's defaults. Norse's
    Flatten(0, -1) flattens the batch axis too, so each sample runs without a batch axis."""
    path = shared_models / "cnn_sinabs.nir"
    x = _cnn_input(seed)
    graph = snnc.load(path, dt=DT)
    tr = _run_snnc(graph, x)
    rtol = RTOL[norse_precision]
    net = _norse_net(path, dt=DT)
    for b in range(x.shape[0]):
        outs, states = _norse_steps(net, x[b], norse_precision, batched=False)
        for name in ("0", "2", "5", "9", "11"):
            _assert_close(f"{name}[b={b}]", tr.outputs[name][b], outs[name], rtol)
        for name in _if_nodes(graph):
            assert outs[name].any(), f"IF {name} never spikes"
            _assert_spikes(f"{name}[b={b}]", tr.outputs[name][b], outs[name])
            v = np.stack([_np(s[0].v) for s in states[name]], 0)
            _assert_close(f"{name}.v[b={b}]", tr.states[f"{name}.v"][b], v, rtol)


# ------------------------------------------------------------------------------------------
# snnTorch
# ------------------------------------------------------------------------------------------


@pytest.fixture
def snntorch_import():
    pytest.importorskip("snntorch")
    from snntorch import import_nir

    return import_nir


@pytest.mark.torch
@pytest.mark.parametrize("seed", SEEDS)
def test_snntorch_lif(shared_models, seed, snntorch_import):
    """``import_from_nir`` -> Leaky(beta = 1 - dt/tau, threshold = v_thr / (r dt/tau)); its
    ``mem`` is snnc's ``v / (r dt/tau)``."""
    path = shared_models / "lif_norse.nir"
    node = nir.read(str(path)).nodes["1"]
    w_scale = float(np.unique(node.r * DT / node.tau)[0])
    x = np.random.default_rng(seed).normal(0.3, 1.0, (5, 60, 1)).astype(np.float32)
    with contextlib.redirect_stdout(io.StringIO()):   # it prints a warning about the scaling
        net = snntorch_import.import_from_nir(nir.read(str(path)))
    spikes, mem = [], []
    state = None
    with torch.no_grad():
        for t in range(x.shape[1]):
            out, state = net(torch.from_numpy(x[:, t]), state)
            spikes.append(_np(out))
            mem.append(_np(getattr(net, "1").mem))
    spikes, mem = np.stack(spikes, 1), np.stack(mem, 1)
    tr = _run_snnc(snnc.load(path, dt=DT), x)
    assert spikes.any()
    _assert_spikes("1", tr.outputs["1"], spikes)
    _assert_close("1.v", tr.states["1.v"], mem * w_scale, RTOL["float32"])


def _snntorch_braille(import_nir, path, x: np.ndarray, reset: str) -> dict[str, np.ndarray]:
    """The braille network from snnTorch's per-node converter (what ``import_from_nir`` would
    build, without its nirtorch and RSynaptic bugs): fc1 + w_rec(spk_{t-1}) -> Synaptic -> fc2 ->
    Synaptic, with ``spk_{-1} = 0`` as in RSynaptic."""
    graph = nir.read(str(path))
    with contextlib.redirect_stdout(io.StringIO()):
        m = {k: import_nir._nir_to_snntorch_module(n, init_hidden=True) for k, n in graph.nodes.items()
             if not isinstance(n, (nir.Input, nir.Output))}
    for k in ("lif1.lif", "lif2"):
        lif = m[k]
        assert type(lif).__name__ == "Synaptic" and lif.reset_mechanism == "zero" and not lif.reset_delay
        if reset != "zero":   # a new module: the reset_mechanism setter does not update state_function
            m[k] = type(lif)(alpha=lif.alpha, beta=lif.beta, threshold=lif.threshold, reset_mechanism=reset,
                             init_hidden=True, reset_delay=False)
    rec: dict[str, list] = {}
    xs = torch.from_numpy(x)
    spk = torch.zeros((x.shape[0], m["lif1.w_rec"].weight.shape[0]))
    with torch.no_grad():
        for t in range(x.shape[1]):
            c1 = m["fc1"](xs[:, t])
            r = m["lif1.w_rec"](spk)
            spk = m["lif1.lif"](c1 + r)
            c2 = m["fc2"](spk)
            out = m["lif2"](c2)
            vals = {"fc1": c1, "lif1.w_rec": r, "lif1.lif": spk, "fc2": c2, "lif2": out,
                    "lif1.lif.i": m["lif1.lif"].syn, "lif1.lif.v": m["lif1.lif"].mem,
                    "lif2.i": m["lif2"].syn, "lif2.v": m["lif2"].mem}
            for k, v in vals.items():
                rec.setdefault(k, []).append(_np(v))
    return {k: np.stack(v, 1) for k, v in rec.items()}


@pytest.mark.torch
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fname", sorted(BRAILLE))
def test_snntorch_braille(shared_models, fname, seed, snntorch_import):
    """snnTorch's import resets both braille graphs to zero (hard-coded), so snnc uses
    ``reset='zero'`` here for both; the recurrent delay goes on the spike edge."""
    path = shared_models / fname
    x = _braille_input(seed)
    ref = _snntorch_braille(snntorch_import, path, x, "zero")
    tr = _run_snnc(_delay_on_spike_edge(snnc.load(path, dt=DT, reset="zero")), x)
    rtol = RTOL["float32"]
    for name in ("fc1", "lif1.w_rec", "fc2"):   # w_rec: W s_{t-1} + b in both
        _assert_close(name, tr.outputs[name], ref[name], rtol)
    for name in ("lif1.lif", "lif2"):
        assert ref[name].any()
        _assert_spikes(name, tr.outputs[name], ref[name])
        for s in ("i", "v"):
            _assert_close(f"{name}.{s}", tr.states[f"{name}.{s}"], ref[f"{name}.{s}"], rtol)


@pytest.mark.torch
@pytest.mark.parametrize("seed", SEEDS)
def test_snntorch_braille_subtract(shared_models, seed, snntorch_import):
    """Reset by subtraction (how the ``noBias_subtract`` model was trained) in snnTorch vs
    ``reset='subtract'``: identical until a neuron whose membrane is still above threshold
    after its reset (``v_{t-1} > thr``) gets ``thr < h_t <= 2 thr`` (snnTorch's "avoid double
    reset" guard, see the module docstring); the first differing spike must be such a neuron."""
    path = shared_models / "braille_noDelay_noBias_subtract.nir"
    x = _braille_input(seed)
    ref = _snntorch_braille(snntorch_import, path, x, "subtract")
    tr = _run_snnc(_delay_on_spike_edge(snnc.load(path, dt=DT, reset="subtract")), x)
    rtol = RTOL["float32"]
    thr = 1.0
    layers = ("lif1.lif", "lif2")
    n_guarded = 0
    for b in range(x.shape[0]):
        first = {name: np.flatnonzero((tr.outputs[name][b] != ref[name][b]).any(-1)) for name in layers}
        t_div = min((int(f[0]) for f in first.values() if f.size), default=x.shape[1])
        for name in layers:   # identical before the first divergence
            _assert_spikes(f"{name}[b={b}]", tr.outputs[name][b, :t_div], ref[name][b, :t_div])
            for s in ("i", "v"):
                _assert_close(f"{name}.{s}[b={b}]", tr.states[f"{name}.{s}"][b, :t_div],
                              ref[f"{name}.{s}"][b, :t_div], rtol)
        if t_div == x.shape[1]:
            continue
        upstream_diverged = False
        for name in layers:
            diff = np.flatnonzero(tr.outputs[name][b, t_div] != ref[name][b, t_div])
            if diff.size == 0:
                continue
            v_prev = tr.states[f"{name}.v"][b, t_div - 1, diff] if t_div else np.zeros(diff.size)
            h = tr.states[f"{name}.v"][b, t_div, diff] + thr * tr.outputs[name][b, t_div, diff]
            guarded = (v_prev > thr) & (h > thr) & (h <= 2 * thr)
            assert guarded.all() or upstream_diverged, (
                f"{name}[b={b}] diverges at step {t_div} for neurons {diff[~guarded].tolist()} "
                f"without a post-reset membrane above threshold: v_(t-1) = {v_prev[~guarded]}, h_t = {h[~guarded]}")
            n_guarded += int(guarded.sum())
            upstream_diverged = True
    # the inputs are strong enough to reach the guarded case (seeds 0-2 all do)
    assert n_guarded > 0


@pytest.mark.xfail(raises=(AttributeError, TypeError), strict=False,
                   reason="snnTorch 1.0.0 import_from_nir on a recurrent graph: nirtorch 2.6 calls .items() on "
                          "the RSynaptic subgraph's GraphModule (AttributeError, nir_interpreter.py:310); "
                          "RSynaptic(reset_delay=False, init_hidden=True) then reads undefined locals "
                          "(TypeError, rsynaptic.py:369)")
@pytest.mark.parametrize("fname", sorted(BRAILLE))
def test_snntorch_import_from_nir_braille(shared_models, fname, snntorch_import):
    path = shared_models / fname
    x = _braille_input(0)
    with contextlib.redirect_stdout(io.StringIO()):
        net = snntorch_import.import_from_nir(nir.read(str(path)))
    out, state = [], None
    with torch.no_grad():
        for t in range(x.shape[1]):
            y, state = net(torch.from_numpy(x[:, t]), state)
            out.append(_np(y))
    tr = _run_snnc(_delay_on_spike_edge(snnc.load(path, dt=DT, reset="zero")), x)
    _assert_spikes("lif2", tr.outputs["lif2"], np.stack(out, 1))


# ------------------------------------------------------------------------------------------
# Sinabs
# ------------------------------------------------------------------------------------------


def _sinabs_run(path, x: np.ndarray, *, spike_fn=None, clamp: bool = True):
    """Sinabs's import (Squeeze layers: the whole [B*T, ...] sequence in one call). ``spike_fn``
    replaces the default MultiSpike; ``clamp=False`` removes ``min_v_mem``."""
    import sinabs.layers as sl
    import sinabs.nir

    B, T = x.shape[:2]
    net = sinabs.nir.from_nir(nir.read(str(path)), batch_size=B)
    iafs = {k: m for k, m in net.named_children() if isinstance(m, sl.IAFSqueeze)}
    for m in iafs.values():
        m.record_states = True
        if spike_fn is not None:
            m.spike_fn = spike_fn
        if not clamp:
            m.min_v_mem = None
    with torch.no_grad():
        _, state = net(torch.from_numpy(x.reshape(B * T, *x.shape[2:])))
    outs = {k: _np(v).reshape(B, T, *v.shape[1:]) for k, v in state.cache.items()}
    v = {k: _np(m.recordings["v_mem"]) for k, m in iafs.items()}
    return outs, v


def _snnc_sinabs_graph(path) -> Graph:
    """snnc with Sinabs's IAF conventions: reset by subtraction, v >= -v_thr, spike v >= thr."""
    cont = snnc.load(path, dt=DT)
    v_min = {n: -np.asarray(cont.nodes[n].v_threshold, np.float64) for n in _if_nodes(cont)}
    g = discretize(snnc.load(path, dt=DT, reset="subtract", v_min=v_min, integrator="per_step"))
    for n in v_min:
        g.nodes[n].comparison = ">="
    return g


@pytest.mark.torch
@pytest.mark.parametrize("seed", SEEDS)
def test_sinabs_cnn_single_spike(shared_models, seed):
    """Sinabs's import with ``spike_fn=SingleSpike`` (one spike per step) vs snnc
    ``reset='subtract'``, ``v_min = -v_thr``."""
    pytest.importorskip("sinabs")
    from sinabs.activation import SingleSpike

    path = shared_models / "cnn_sinabs.nir"
    x = _cnn_input(seed)
    outs, v = _sinabs_run(path, x, spike_fn=SingleSpike)
    g = _snnc_sinabs_graph(path)
    tr = _run_snnc(g, x)
    rtol = RTOL["float32"]
    for name in ("0", "2", "5", "9", "11"):
        _assert_close(name, tr.outputs[name], outs[name], rtol)
    assert set(v) == {n for n, node in g.nodes.items() if node.metadata.get("discretized_from") == "IF"}
    for name in v:
        assert outs[name].any()
        _assert_spikes(name, tr.outputs[name], outs[name])
        _assert_close(f"{name}.v", tr.states[f"{name}.v"], v[name], rtol)


@pytest.mark.torch
@pytest.mark.parametrize("seed", SEEDS)
def test_sinabs_cnn_default_multispike(shared_models, seed):
    """Sinabs's default import (MultiSpike, MembraneSubtract, min_v_mem = -thr) vs snnc's
    ``preset='sinabs'`` (IF -> LIFB count neuron with v_min = -thr): identical spike counts;
    membranes within rtol = 5e-5 of max |v|. The membrane before the reset reaches ~20 thr here
    (up to 19 spikes per step), so float32 rounding of that pre-reset value, which the reset
    carries into v, is ~20x the single-spike case: measured 1.5e-5 (seeds 1, 2)."""
    pytest.importorskip("sinabs")
    path = shared_models / "cnn_sinabs.nir"
    x = _cnn_input(seed)
    outs, v = _sinabs_run(path, x)
    g = discretize(snnc.load(path, dt=DT, preset="sinabs"))
    tr = _run_snnc(g, x)
    assert max(outs[n].max() for n in v) > 1, "no multi-spike event: vacuous"
    for name in ("1", "3", "6", "10", "12"):
        _assert_spikes(name, tr.outputs[name], outs[name])
        _assert_close(f"{name}.v", tr.states[f"{name}.v"], v[name], 5e-5)


@pytest.mark.torch
@pytest.mark.parametrize("seed", SEEDS)
def test_sinabs_multispike_is_lifb_count_neuron(shared_models, seed):
    """What a Sinabs import mode would map IF to: LIFB(leak=1, v_threshold=thr, threshold_step=thr,
    max_burst > max count, reset='subtract', comparison='>=') gives Sinabs's MultiSpike counts
    ``(v > 0) * trunc(v / thr)`` exactly (thr = 1 here, so v / thr is exact). Sinabs's
    ``min_v_mem`` clamp is switched off, because LIFB has no lower bound."""
    pytest.importorskip("sinabs")
    path = shared_models / "cnn_sinabs.nir"
    x = _cnn_input(seed)
    outs, v = _sinabs_run(path, x, clamp=False)
    max_burst = 64
    g = discretize(snnc.load(path, dt=DT))
    for name in v:
        d = g.nodes[name]
        g.nodes[name] = N.LIFB(shape=d.shape, leak=np.ones(()), v_threshold=d.v_threshold,
                               max_burst=max_burst, input_gain=d.input_gain, reset="subtract", comparison=">=")
    tr = _run_snnc(g, x)
    assert max(outs[n].max() for n in v) > 1, "no multi-spike event: vacuous"
    for name in v:
        assert outs[name].max() < max_burst
        _assert_spikes(name, tr.outputs[name], outs[name])
        _assert_close(f"{name}.v", tr.states[f"{name}.v"], v[name], RTOL["float32"])
