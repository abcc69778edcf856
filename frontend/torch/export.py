"""Export a multi-step torch model to an snnc IR graph: ``export(model, example_input) -> Graph``.

Accepted models: ``nn.Sequential`` and any ``torch.fx``-traceable module whose forward maps
one tensor ``[T, B, *shape]`` to one tensor (or a tuple of tensors) ``[T, B, *shape']``, built
from

=====================================  ==================================================
torch module / operation               IR
=====================================  ==================================================
``nn.Linear``                          ``Affine`` (``Linear`` without bias)
``RFDense``                            complex ``Linear`` (B_bar of the following RF folded in)
``nn.Conv1d`` / ``nn.Conv2d``          ``Conv1d`` / ``Conv2d`` (zero padding; in ``TimeDistributed``)
``nn.BatchNorm1d`` / ``nn.BatchNorm2d`` ``BatchNorm`` (running statistics; not folded; in ``TimeDistributed``)
``nn.AvgPool2d``                       ``AvgPool2d`` (count_include_pad, no ceil_mode; in ``TimeDistributed``)
``SumPool2d``                          ``SumPool2d``
``nn.Flatten``, ``torch.flatten``      ``Flatten`` (per-sample axes; the time/batch axes stay)
``nn.Identity``, ``nn.Dropout*``       nothing (identity at inference)
``a + b`` (``operator.add``)           fan-in: both producers get an edge into every consumer
``c * a`` (python number c)            ``Scale``
``LIF`` / ``CubaLIF`` / ``IF`` / ``LI`` ``DiscreteLIF``
``LIFB``, ``CLIF``, ``LNM``            ``LIFB``, ``CLIF``, ``LNM``
``RF``                                 ``RF`` (decay = lambda_bar)
``LMHT``                               ``TimeMix`` -> ``LMHT``
``TimeDistributed(m)``                 the nodes of ``m`` (traced on ``[T*B, *shape]``)
``Recurrent(neuron, m)``               neuron nodes, ``m``'s nodes, edge neuron -> m with delay 1
=====================================  ==================================================

Time convention (``metadata['time_convention'] = 'nirtorch'``): feed-forward edges have delay
0 (a spike crosses every layer within its step, as the torch forward computes it); the edge
from a :class:`~.containers.Recurrent` neuron into its recurrent synapse has delay 1. The
graph is discrete-time (``metadata['level'] = 'discrete'``) with ``metadata['dt']`` seconds per
step (only a label: every exported node is already a per-step equation).

Node names are the torch module paths with ``.`` replaced by ``_`` (``metadata['torch_module']``
keeps the path); the input node is ``input``, outputs are ``output`` (``output_<i>`` for
several). The model is run once on ``example_input`` in eval mode (its training flags are
restored afterwards) to learn every tensor's shape.
"""

from __future__ import annotations

import contextlib
import operator
from collections import Counter

import numpy as np
import torch
import torch.fx as fx
from torch import nn

from snnc.ir import nodes as N
from snnc.ir.checks import check_parameters
from snnc.ir.errors import ParameterError, ShapeError, SnncError, UnsupportedError
from snnc.ir.graph import Edge, Graph
from snnc.ir.shapes import annotate_shapes

from .containers import Recurrent, SumPool2d, TimeDistributed
from .neuron import SpikingNeuron, to_numpy
from .rf import RFDense

#: modules that torch.fx keeps as calls (not traced into)
LEAF_TYPES = (SpikingNeuron, TimeDistributed, Recurrent, RFDense, SumPool2d)
#: modules that are the identity at inference
_IDENTITY_TYPES = (nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)
#: modules that need a per-step batch [N, *shape] (inside TimeDistributed)
_PER_STEP_TYPES = (nn.Conv1d, nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d, nn.AvgPool2d)

DEFAULT_DT = 1e-3

Term = tuple[str, int]          # (source node name, edge delay in steps)
Value = list[Term]              # a tensor of the torch model = the sum of these node outputs


class _Tracer(fx.Tracer):
    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, LEAF_TYPES) or super().is_leaf_module(m, qualname)


def export(model: nn.Module, example_input: torch.Tensor, *, dt: float = DEFAULT_DT) -> Graph:
    """The IR graph of ``model`` (see the module docstring for what is supported).

    ``example_input``: ``float[T, B, *shape]``, one input sequence (values only matter for
    running the model once; T must suit whole-window layers such as LMHT). ``dt``: seconds per
    step, stored as ``metadata['dt']``. Returns a validated, shape-annotated Graph with one
    ``Input(shape)`` node named ``input``. Raises :class:`~snnc.ir.errors.UnsupportedError`
    naming the module for anything it cannot express exactly."""
    if not isinstance(example_input, torch.Tensor) or example_input.ndim < 3:
        is_tensor = isinstance(example_input, torch.Tensor)
        got = tuple(example_input.shape) if is_tensor else type(example_input).__name__
        raise ShapeError("example_input must be a tensor [T, B, *shape] with at least one feature axis, "
                         f"got {got}")
    if not dt > 0:
        raise ParameterError(f"dt must be > 0 seconds, got {dt}", field="dt")
    b = _Builder()
    inp = b.add("input", N.Input(shape=tuple(int(s) for s in example_input.shape[2:])), [])
    with _eval_mode(model), torch.no_grad():
        values, tensors = b.convert(model, [[(inp, 0)]], (example_input,), lead=2, prefix="")
    for i, (val, y) in enumerate(zip(values, tensors)):
        name = "output" if len(values) == 1 else f"output_{i}"
        b.add(name, N.Output(shape=tuple(int(s) for s in y.shape[2:])), val)
    g = b.graph
    _fold_input_scales(g)
    g.metadata.update(dt=float(dt), level="discrete", time_convention="nirtorch",
                      producer="snnc.frontend.torch", torch_version=str(torch.__version__),
                      dt_source="export")
    g.validate()
    check_parameters(g)
    return annotate_shapes(g)


@contextlib.contextmanager
def _eval_mode(model: nn.Module):
    flags = {m: m.training for m in model.modules()}
    model.eval()
    try:
        yield
    finally:
        for m, flag in flags.items():
            m.training = flag


class _Builder:
    """Builds the Graph while walking the traced torch graph."""

    def __init__(self) -> None:
        self.graph = Graph()

    # -- nodes and edges -------------------------------------------------------------------

    def add(self, base: str, node: N.Node, inputs: Value, module: str | None = None) -> str:
        name = base.replace(".", "_").strip("_") or type(node).__name__.lower()
        if name in self.graph.nodes:
            i = 1
            while f"{name}_{i}" in self.graph.nodes:
                i += 1
            name = f"{name}_{i}"
        if module is not None:
            node.metadata = {"torch_module": module, **node.metadata}
        self.graph.add_node(name, node)
        self.connect(inputs, name)
        return name

    def connect(self, inputs: Value, dst: str) -> None:
        """Edges from every term of ``inputs`` into ``dst``; a term that occurs k > 1 times
        (``x + x``) goes through a Scale(k) node (the IR has no duplicate edges)."""
        for (src, delay), k in Counter(inputs).items():
            if k > 1:
                src = self.add(f"{src}_times{k}", N.Scale(scale=np.array(float(k))), [(src, delay)])
                delay = 0
            self.graph.add_edge(src, dst, delay)

    # -- traversal --------------------------------------------------------------------------

    def convert(self, module: nn.Module, in_values: list[Value], args: tuple, lead: int,
                prefix: str) -> tuple[list[Value], list[torch.Tensor]]:
        """Convert ``module`` applied to ``args`` (whose IR values are ``in_values``). ``lead``:
        number of leading non-sample axes of the tensors it sees (2 = [T, B], 1 = [T*B] or [B])."""
        if isinstance(module, LEAF_TYPES) or type(module).__module__.startswith("torch.nn"):
            if not isinstance(module, nn.Sequential):
                y = module(*args)
                qual = prefix.rstrip(".")            # '' for the model itself
                return [self.module(module, qual, in_values[0], args[0], y, lead)], [y]
        gm = _trace(module, prefix.rstrip(".") or type(module).__name__)
        n_inputs = sum(n.op == "placeholder" for n in gm.graph.nodes)
        if n_inputs != len(in_values):
            raise UnsupportedError(f"{type(module).__name__}.forward takes {n_inputs} inputs; export needs "
                                   "exactly one tensor [T, B, *shape]", node=prefix.rstrip(".") or None)
        interp = fx.Interpreter(gm, garbage_collect_values=False)
        out = interp.run(*args)
        env = interp.env
        vals: dict[fx.Node, Value] = {}
        placeholders = iter(in_values)
        outputs: list[fx.Node] = []
        for n in gm.graph.nodes:
            where = prefix + str(n.target if n.op == "call_module" else n.name)
            if n.op == "placeholder":
                vals[n] = next(placeholders)
            elif n.op == "call_module":
                src = _single_tensor_arg(n, where)
                vals[n] = self.module(gm.get_submodule(n.target), prefix + n.target, vals[src], env[src],
                                      env[n], lead)
            elif n.op == "call_function" and n.target in (operator.add, torch.add):
                vals[n] = self._add(n, vals, env, where)
            elif n.op == "call_function" and n.target in (operator.mul, torch.mul):
                vals[n] = self._scale(n, vals, where)
            elif (n.op == "call_function" and n.target is torch.flatten) or (n.op == "call_method"
                                                                            and n.target == "flatten"):
                src, start, end = _flatten_args(n, where)
                vals[n] = self._flatten(start, end, vals[src], env[src], lead, where, None)
            elif n.op == "output":
                res = n.args[0]
                outputs = list(res) if isinstance(res, (tuple, list)) else [res]
                if not all(isinstance(o, fx.Node) for o in outputs):
                    raise UnsupportedError("model output must be a tensor or a tuple of tensors", node=where)
            else:
                op = getattr(n.target, "__name__", n.target)
                raise UnsupportedError(f"unsupported operation {n.op} '{op}'", node=where,
                                       hint="use snnc torch layers, the torch modules listed in "
                                       "snnc.frontend.torch.export, + and multiplication by a number")
        ys = list(out) if isinstance(out, (tuple, list)) else [out]
        return [vals[o] for o in outputs], ys

    def module(self, mod: nn.Module, qual: str, value: Value, x: torch.Tensor, y: torch.Tensor,
               lead: int) -> Value:
        """The IR value of ``y = mod(x)`` where x's IR value is ``value``."""
        kind = type(mod).__name__
        if isinstance(mod, SpikingNeuron):
            self._need_lead(mod, qual, lead, 2, "spiking layers need the [T, B, *shape] sequence; do not "
                            "wrap them in TimeDistributed")
            return [(self._neuron_chain(mod, qual, value, tuple(x.shape[2:]))[1], 0)]
        if isinstance(mod, Recurrent):
            self._need_lead(mod, qual, lead, 2, "Recurrent needs the [T, B, *shape] sequence")
            return self._recurrent(mod, qual, value, x)
        if isinstance(mod, TimeDistributed):
            self._need_lead(mod, qual, lead, 2, "TimeDistributed cannot be nested")
            T, B = x.shape[:2]
            vals, _ = self.convert(mod.module, [value], (x.reshape(T * B, *x.shape[2:]),), 1,
                                   _join(qual, "module") + ".")
            return vals[0]
        if isinstance(mod, _IDENTITY_TYPES):
            return value
        if isinstance(mod, _PER_STEP_TYPES):
            self._need_lead(mod, qual, lead, 1, f"wrap {kind} in snnc.frontend.torch.TimeDistributed so "
                            "that it sees [T*B, *shape]")
        if isinstance(mod, RFDense):
            w = to_numpy(mod.complex_weight)
            node = N.Linear(weight=w if mod.complex_output else w.real.copy())
            return [(self.add(qual, node, value, qual), 0)]
        if isinstance(mod, nn.Linear):
            w = to_numpy(mod.weight)
            node = N.Linear(weight=w) if mod.bias is None else N.Affine(weight=w, bias=to_numpy(mod.bias))
            return [(self.add(qual, node, value, qual), 0)]
        if isinstance(mod, (nn.Conv1d, nn.Conv2d)):
            return [(self.add(qual, _conv_node(mod, qual, tuple(x.shape[lead:])), value, qual), 0)]
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            return [(self.add(qual, _batchnorm_node(mod, qual), value, qual), 0)]
        if isinstance(mod, nn.AvgPool2d):
            return [(self.add(qual, _avgpool_node(mod, qual), value, qual), 0)]
        if isinstance(mod, SumPool2d):
            if x.ndim - lead != 3:
                raise ShapeError(f"SumPool2d needs per-sample [C, H, W], got {tuple(x.shape[lead:])}",
                                 node=qual)
            node = N.SumPool2d(kernel_size=mod.kernel_size, stride=mod.stride, padding=mod.padding)
            return [(self.add(qual, node, value, qual), 0)]
        if isinstance(mod, nn.Flatten):
            return self._flatten(mod.start_dim, mod.end_dim, value, x, lead, qual, qual)
        raise UnsupportedError(f"no IR equivalent for module {kind}", node=qual,
                               hint="supported: see snnc.frontend.torch.export's docstring")

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _need_lead(mod, qual, lead, want, hint):
        if lead != want:
            seen = "[T, B, *shape]" if lead == 2 else "[N, *shape]"
            raise UnsupportedError(f"{type(mod).__name__} used on {seen} tensors", node=qual, hint=hint)

    def _neuron_chain(self, mod: SpikingNeuron, qual: str, value: Value, shape: tuple) -> tuple[str, str]:
        """Add the neuron's node chain fed by ``value``; returns (first node, last node)."""
        chain = mod.export_nodes(shape)
        first = last = None
        for suffix, node in chain:
            last = self.add(qual + suffix, node, value if first is None else [(last, 0)], qual)
            first = first or last
        return first, last

    def _recurrent(self, mod: Recurrent, qual: str, value: Value, x: torch.Tensor) -> Value:
        first, last = self._neuron_chain(mod.neuron, _join(qual, "neuron"), value, tuple(x.shape[2:]))
        out_dtype = x.real.dtype if x.is_complex() else x.dtype
        step_out = torch.zeros(x.shape[1:], dtype=out_dtype)
        rec_vals, rec_ys = self.convert(mod.recurrent, [[(last, 1)]], (step_out,), 1,
                                        _join(qual, "recurrent") + ".")
        if tuple(rec_ys[0].shape) != tuple(x.shape[1:]):
            raise ShapeError(f"recurrent synapse maps {tuple(step_out.shape)} to {tuple(rec_ys[0].shape)}; "
                             f"it must return the neuron's input shape {tuple(x.shape[1:])}", node=qual)
        self.connect(rec_vals[0], first)
        return [(last, 0)]

    def _add(self, n: fx.Node, vals, env, where) -> Value:
        if n.kwargs or len(n.args) != 2 or not all(isinstance(a, fx.Node) for a in n.args):
            raise UnsupportedError("only tensor + tensor is supported (no constants, no alpha)", node=where)
        a, b = n.args
        if tuple(env[a].shape) != tuple(env[b].shape):
            raise ShapeError(f"addition of different shapes {tuple(env[a].shape)} + {tuple(env[b].shape)} "
                             "(broadcasting) is not supported", node=where)
        return vals[a] + vals[b]

    def _scale(self, n: fx.Node, vals, where) -> Value:
        args = list(n.args)
        tensors = [a for a in args if isinstance(a, fx.Node)]
        numbers = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
        if n.kwargs or len(tensors) != 1 or len(numbers) != 1:
            raise UnsupportedError("only multiplication of a tensor by a python number is supported",
                                   node=where)
        return [(self.add(where, N.Scale(scale=np.array(float(numbers[0]))), vals[tensors[0]], where), 0)]

    def _flatten(self, start: int, end: int, value: Value, x: torch.Tensor, lead: int, where: str,
                 module: str | None) -> Value:
        nd = x.ndim
        s, e = start % nd, end % nd
        if s < lead:
            axes = "time/batch" if lead == 2 else "batch"
            raise UnsupportedError(f"flatten from axis {start} merges the {axes} axes", node=where,
                                   hint="flatten per sample: nn.Flatten(start_dim=2) on [T, B, ...], or the "
                                   "default nn.Flatten() inside TimeDistributed")
        if s > e:
            raise ShapeError(f"start_dim {start} after end_dim {end}", node=where)
        node = N.Flatten(input_shape=tuple(int(v) for v in x.shape[lead:]), start_dim=s - lead,
                         end_dim=e - lead)
        return [(self.add(where, node, value, module), 0)]


def _join(path: str, attr: str) -> str:
    return f"{path}.{attr}" if path else attr


def _trace(module: nn.Module, what: str) -> fx.GraphModule:
    try:
        graph = _Tracer().trace(module)
    except SnncError:
        raise
    except Exception as exc:  # torch.fx raises many types (TraceError, TypeError, ...)
        raise UnsupportedError(f"torch.fx cannot trace {type(module).__name__} ({type(exc).__name__}: {exc})",
                               node=what, hint="make forward free of data-dependent control flow, or use "
                               "nn.Sequential") from None
    return fx.GraphModule(module, graph)


def _single_tensor_arg(n: fx.Node, where: str) -> fx.Node:
    if n.kwargs or len(n.args) != 1 or not isinstance(n.args[0], fx.Node):
        raise UnsupportedError("module must be called with exactly one tensor argument", node=where)
    return n.args[0]


def _flatten_args(n: fx.Node, where: str) -> tuple[fx.Node, int, int]:
    args = list(n.args)
    src = args[0]
    start = args[1] if len(args) > 1 else n.kwargs.get("start_dim", 0)
    end = args[2] if len(args) > 2 else n.kwargs.get("end_dim", -1)
    if not isinstance(src, fx.Node) or not isinstance(start, int) or not isinstance(end, int):
        raise UnsupportedError("flatten needs a tensor and integer axes", node=where)
    return src, start, end


def _conv_node(mod: nn.Conv1d | nn.Conv2d, qual: str, in_shape: tuple) -> N.Node:
    if mod.padding_mode != "zeros":
        raise UnsupportedError(f"padding_mode '{mod.padding_mode}' (only zero padding)", node=qual,
                               field="padding_mode")
    pad = mod.padding
    if isinstance(pad, str) and pad == "same":
        if any(d * (k - 1) % 2 for d, k in zip(mod.dilation, mod.kernel_size)):
            raise UnsupportedError("padding='same' with an even effective kernel pads asymmetrically",
                                   node=qual, field="padding", hint="use odd kernels or explicit padding")
    weight = to_numpy(mod.weight)
    bias = None if mod.bias is None else to_numpy(mod.bias)
    if isinstance(mod, nn.Conv1d):
        return N.Conv1d(input_shape=tuple(in_shape[1:]), weight=weight, stride=int(mod.stride[0]),
                        padding=pad if isinstance(pad, str) else int(pad[0]), dilation=int(mod.dilation[0]),
                        groups=int(mod.groups), bias=bias)
    return N.Conv2d(input_shape=tuple(in_shape[1:]), weight=weight, stride=tuple(int(s) for s in mod.stride),
                    padding=pad if isinstance(pad, str) else tuple(int(p) for p in pad),
                    dilation=tuple(int(d) for d in mod.dilation), groups=int(mod.groups), bias=bias)


def _batchnorm_node(mod: nn.BatchNorm1d | nn.BatchNorm2d, qual: str) -> N.BatchNorm:
    if mod.running_mean is None or mod.running_var is None:
        raise UnsupportedError("batch norm without running statistics (track_running_stats=False) normalises "
                               "with batch statistics at inference", node=qual, field="track_running_stats")
    c = mod.num_features
    weight = to_numpy(mod.weight) if mod.weight is not None else np.ones(c)
    bias = to_numpy(mod.bias) if mod.bias is not None else np.zeros(c)
    return N.BatchNorm(mean=to_numpy(mod.running_mean), var=to_numpy(mod.running_var), weight=weight,
                       bias=bias, eps=float(mod.eps))


def _avgpool_node(mod: nn.AvgPool2d, qual: str) -> N.AvgPool2d:
    def pair(v):
        return (int(v), int(v)) if isinstance(v, int) else tuple(int(a) for a in v)

    pad = pair(mod.padding)
    if mod.ceil_mode:
        raise UnsupportedError("ceil_mode=True", node=qual, field="ceil_mode")
    if mod.divisor_override is not None:
        raise UnsupportedError("divisor_override", node=qual, field="divisor_override",
                               hint="use SumPool2d followed by a multiplication by a number")
    if not mod.count_include_pad and any(pad):
        raise UnsupportedError("count_include_pad=False with padding", node=qual, field="count_include_pad")
    return N.AvgPool2d(kernel_size=pair(mod.kernel_size), stride=pair(mod.stride or mod.kernel_size),
                       padding=pad)


def _fold_input_scales(g: Graph) -> None:
    """Fold each RF input scale (B_bar, a Scale node marked ``fold_into_synapse``) into the
    rows of the Linear/Affine that is its only input and feeds nothing else."""
    for name in list(g.nodes):
        node = g.nodes[name]
        if not isinstance(node, N.Scale) or not node.metadata.get("fold_into_synapse"):
            continue
        ins = g.in_edges(name)
        if len(ins) != 1 or ins[0].delay != 0:
            continue
        src = ins[0].src
        syn = g.nodes[src]
        if not isinstance(syn, (N.Linear, N.Affine)) or len(g.out_edges(src)) != 1:
            continue
        s = np.asarray(node.scale)
        syn.weight = s.reshape(-1, 1) * np.asarray(syn.weight)
        if isinstance(syn, N.Affine):
            syn.bias = s * np.asarray(syn.bias)
        syn.metadata["folded_input_scale"] = name
        g.edges = [Edge(src, e.dst, e.delay) if e.src == name else e for e in g.edges if e.dst != name]
        del g.nodes[name]
