"""C kernels of the sigma-delta nodes (:mod:`snnc.ir.intsdn`: Lava's ``Sigma``, ``Delta`` and
``SigmaDelta`` fixed-point models), the simulator's kernels (:mod:`snnc.backends.sim.sdn_kernels`)
written with the functions of :mod:`snnc.ir.intops`: every state is an int32 wrapped with
``snnc_wrap(., 32)`` after each update, as Lava's numpy int32 arrays wrap; messages are graded
int32 values (``delta >> state_exp``, arithmetic shift)."""

from __future__ import annotations

from snnc.ir import intsdn as SD

from .layers import LayerCode, LayerSpec, generates, neuron_loop, per_neuron, state_array

#: Lava's sigma-delta states and messages are int32
SDN_BITS = 32


def _w32(expr: str) -> str:
    return f"snnc_wrap({expr}, {SDN_BITS})"


def _delta_lines(spec: LayerSpec, code: LayerCode, act: str, res: str, err: str) -> list[str]:
    """The delta thresholding of :mod:`snnc.ir.intsdn` for the new activation ``a`` (a C local):
    updates the act/residue/error states and writes ``y[i]``."""
    n = spec.node
    vth = per_neuron(spec, code, "vth", n.vth)
    lines = [f"const int64_t delta = {_w32(f'snnc_sub(snnc_add(a, {res}[i]), {act}[i])')};"]
    if n.cum_error:
        lines += [f"const int64_t e = {_w32(f'snnc_add({err}[i], delta)')};",
                  f"const int64_t s = {_w32('e < 0 ? -e : e')} >= {vth} ? delta : 0;",
                  f"{err}[i] = s != 0 ? 0 : e;"]
    else:
        lines.append(f"const int64_t s = {_w32('delta < 0 ? -delta : delta')} >= {vth} ? delta : 0;")
    lines += [f"{res}[i] = {_w32('snnc_sub(delta, s)')};", f"{act}[i] = a;",
              f"y[i] = snnc_asr(s, {int(n.state_exp)});"]
    return lines


@generates(SD.IntSigma)
def _sigma(spec: LayerSpec) -> LayerCode:
    code = LayerCode(out_bits=SDN_BITS)
    sigma = state_array(spec, code, "sigma", SDN_BITS)
    lines = [f"const int64_t v = {_w32(f'snnc_add({sigma}[i], x[i])')};", f"{sigma}[i] = v;", "y[i] = v;"]
    code.body = neuron_loop(spec, code, lines, 0)
    return code


@generates(SD.IntDelta)
def _delta(spec: LayerSpec) -> LayerCode:
    n = spec.node
    n.validate(spec.name)
    code = LayerCode(out_bits=SDN_BITS)
    act = state_array(spec, code, "act", SDN_BITS)
    res = state_array(spec, code, "residue", SDN_BITS)
    err = state_array(spec, code, "error", SDN_BITS)
    shift = int(n.spike_exp) + int(n.state_exp)
    lines = [f"const int64_t a = {_w32(f'snnc_shl(x[i], {shift})')};"] + _delta_lines(spec, code, act, res, err)
    code.body = neuron_loop(spec, code, lines, 0)
    return code


@generates(SD.IntSigmaDelta)
def _sigma_delta(spec: LayerSpec) -> LayerCode:
    n = spec.node
    n.validate(spec.name)
    code = LayerCode(out_bits=SDN_BITS)
    sigma = state_array(spec, code, "sigma", SDN_BITS)
    act = state_array(spec, code, "act", SDN_BITS)
    res = state_array(spec, code, "residue", SDN_BITS)
    err = state_array(spec, code, "error", SDN_BITS)
    bias = per_neuron(spec, code, "bias", n.bias)
    lines = [f"const int64_t sg = {_w32(f'snnc_add({sigma}[i], x[i])')};", f"{sigma}[i] = sg;",
             f"int64_t a = {_w32(f'snnc_add(sg, {bias})')};"]
    if n.act_mode == "relu":
        lines.append("if (a < 0) a = 0;")
    code.body = neuron_loop(spec, code, lines + _delta_lines(spec, code, act, res, err), 0)
    return code
