"""Custom Lava processes for the snnc integer nodes that ``lava-nc`` 0.10 has no process for.

Each process has one fixed-point ``PyLoihiProcessModel`` (tag ``'fixed_pt'``, so
``Loihi2SimCfg(select_tag='fixed_pt')`` picks it) whose ``run_spk`` is the node's equation from
:mod:`snnc.ir.intnodes` / :mod:`snnc.ir.intneurons`, written with the functions of
:mod:`snnc.backends.lava.fixed_point` (a numpy restatement of :mod:`snnc.ir.intops`). The
emitter copies this module's body into every generated ``network.py``, so a network runs with
``lava-nc`` and numpy alone.

Conventions:

* Time: Lava's ``time_step`` is 1-based; the IR's step index is ``t = time_step - 1``.
* Ports carry int64 (the IR's edge values are int64); Lava's own processes that receive them sum
  their inputs starting from their own port dtype, which numpy promotes to int64.
* ``SnncTimeMix`` (LM-HT's streaming time mixing) is element-wise like a neuron: ``a_in`` ->
  ``s_out`` in the same step; its one window of latency is part of the IR node's equation.
* Neuron processes: ``a_in`` -> ``s_out`` in the same step (no latency), like Lava's LIF. States
  are ``Var`` s named as the simulator's state traces (``u``, ``v``, ``m``, ``re``, ``im``) and
  hold the value after the step.
* Synapse processes (``SnncDense``, ``SnncConv``, ``SnncComplexDense``) have a ``latency`` of 1
  (send the result of the previous step first, then receive, like Lava's ``Dense``: this is what
  breaks recurrent loops) or 0 (receive, compute and send in the same step, for graphs without
  synapse latency).
* Element-wise processes do not care about the tensor layout; ``SnncConv`` receives and sends in
  Lava's (W, H, C) layout and computes in the IR's (C, H, W).
* Parameters that may differ per neuron are full-shape int64 ``Var`` s (in the layout of the
  ports); per-layer settings are process parameters (``proc_params``).
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from snnc.backends.lava.fixed_point import (  # noqa: F401  (names used by the inlined copy too)
    I64,
    fx_asr,
    fx_binarize,
    fx_conv2d,
    fx_decay,
    fx_fire,
    fx_i64,
    fx_lava_wrap,
    fx_matmul,
    fx_overflow,
    fx_rtz_shift,
    fx_saturate,
    fx_saturate_sym,
    fx_shift_exp,
    fx_shl,
    fx_wrap,
)

# --- snnc:inline-begin ---
# =============================================================================================
# Custom processes (copied from snnc/backends/lava/processes.py)
# =============================================================================================

_IN64 = LavaPyType(PyInPort.VEC_DENSE, np.int64, precision=64)
_OUT64 = LavaPyType(PyOutPort.VEC_DENSE, np.int64, precision=64)


def _var64():
    return LavaPyType(np.ndarray, np.int64, precision=64)


def _full(value, shape):
    return np.broadcast_to(np.asarray(value, np.int64), tuple(shape)).copy()


class _SnncNeuron(AbstractProcess):
    """Base of the custom neuron processes: ``a_in`` and ``s_out`` of ``shape``; keyword
    arrays become full-shape Vars, other keywords are process parameters."""

    STATES: tuple = ()
    ARRAYS: tuple = ()

    def __init__(self, *, shape, name=None, **params):
        shape = tuple(int(s) for s in shape)
        arrays = {k: params.pop(k) for k in self.ARRAYS if k in params}
        super().__init__(shape=shape, name=name, **params)
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        for k in self.ARRAYS:
            setattr(self, k, Var(shape=shape, init=_full(arrays.get(k, 0), shape)))
        init = params.get("state_init", 0)
        for k in self.STATES:
            setattr(self, k, Var(shape=shape, init=_full(init, shape)))


class _SnncNeuronModel(PyLoihiProcessModel):
    a_in: PyInPort = _IN64
    s_out: PyOutPort = _OUT64

    def run_spk(self):
        x = fx_i64(self.a_in.recv())
        self.s_out.send(self.step(x, self.time_step - 1))

    def step(self, x, t):  # pragma: no cover - overridden
        raise NotImplementedError


# --- IntCubaLIF (all variants) ---------------------------------------------------------------


class SnncCubaLIF(_SnncNeuron):
    """``snnc.ir.intnodes.IntCubaLIF`` with any options (soft reset, '>=', per-neuron decays and
    thresholds, other widths, non-spiking readout feeding synapses). States ``u``, ``v``.
    Parameters: Vars ``current_mult``, ``voltage_mult``, ``threshold``, ``bias``; proc params
    ``input_shift``, ``decay_bits``, ``arith_bits``, ``u_bits``, ``u_overflow``, ``v_bits``,
    ``v_overflow``, ``comparison``, ``reset``, ``spiking`` (False: output v), ``reset_interval``
    (0 = none), ``reset_phase``."""

    STATES = ("u", "v")
    ARRAYS = ("current_mult", "voltage_mult", "threshold", "bias")


@implements(proc=SnncCubaLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySnncCubaLIFModel(_SnncNeuronModel):
    u: np.ndarray = _var64()
    v: np.ndarray = _var64()
    current_mult: np.ndarray = _var64()
    voltage_mult: np.ndarray = _var64()
    threshold: np.ndarray = _var64()
    bias: np.ndarray = _var64()

    def step(self, x, t):
        p = self.proc_params
        u, v = fx_i64(self.u), fx_i64(self.v)
        interval = int(p.get("reset_interval", 0))
        if interval and t % interval == int(p.get("reset_phase", 0)):
            u, v = np.zeros_like(u), np.zeros_like(v)
        arith = int(p["arith_bits"])

        def wrap_arith(a):
            return a if arith == 64 else fx_wrap(a, arith)

        a = wrap_arith(fx_shl(x, int(p["input_shift"])))
        u = wrap_arith(fx_decay(u, self.current_mult, int(p["decay_bits"])) + a)
        if p["u_overflow"] == "lava":
            u = fx_lava_wrap(u, int(p["u_bits"]))
        elif p["u_overflow"] == "wrap":
            u = fx_wrap(u, int(p["u_bits"]))
        else:
            u = fx_saturate(u, int(p["u_bits"]))
        h = wrap_arith(fx_decay(v, self.voltage_mult, int(p["decay_bits"])) + u + self.bias)
        if p["v_overflow"] == "saturate_sym":
            h = fx_saturate_sym(h, int(p["v_bits"]))
        elif p["v_overflow"] == "saturate":
            h = fx_saturate(h, int(p["v_bits"]))
        else:
            h = fx_wrap(h, int(p["v_bits"]))
        self.u[:] = u
        if not p["spiking"]:
            self.v[:] = h
            return h
        z = fx_fire(h, self.threshold, p["comparison"])
        if p["reset"] == "zero":
            v = np.where(z == 1, 0, h)
        elif p["reset"] == "subtract":
            v = np.where(z == 1, h - self.threshold, h)
        else:
            v = h
        self.v[:] = v
        return z


# --- IntLIFB ---------------------------------------------------------------------------------


class SnncLIFB(_SnncNeuron):
    """``snnc.ir.intneurons.IntLIFB``: burst count n, graded output ``amplitudes[n]`` (a binary
    population when ``max_burst`` = 1 and amplitudes = (0, 1)). State ``v``. Vars ``leak_mult``,
    ``threshold``, ``threshold_step``, ``v_min``; ``amplitudes`` is a proc param (list); other
    proc params ``max_burst``, ``decay_bits``, ``reset``, ``comparison``, ``state_bits``,
    ``overflow``, ``has_v_min``."""

    STATES = ("v",)
    ARRAYS = ("leak_mult", "threshold", "threshold_step", "v_min")


@implements(proc=SnncLIFB, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySnncLIFBModel(_SnncNeuronModel):
    v: np.ndarray = _var64()
    leak_mult: np.ndarray = _var64()
    threshold: np.ndarray = _var64()
    threshold_step: np.ndarray = _var64()
    v_min: np.ndarray = _var64()

    def step(self, x, t):
        p = self.proc_params
        h = fx_rtz_shift(fx_i64(self.v) * self.leak_mult, int(p["decay_bits"])) + x
        count = np.zeros(h.shape, I64)
        for k in range(int(p["max_burst"])):
            count += fx_fire(h, self.threshold + k * self.threshold_step, p["comparison"])
        if p["reset"] == "subtract":
            v = h - count * self.threshold_step
        elif p["reset"] == "zero":
            v = np.where(count > 0, 0, h)
        else:
            v = h * (1 - count)
        if p["has_v_min"]:
            v = np.maximum(v, self.v_min)
        self.v[:] = fx_overflow(v, int(p["state_bits"]), p["overflow"])
        return fx_i64(p["amplitudes"])[count]


# --- IntCLIF ---------------------------------------------------------------------------------


class SnncCLIF(_SnncNeuron):
    """``snnc.ir.intneurons.IntCLIF`` (sigmoids as clamped look-up tables). States ``u``, ``m``.
    Proc params: ``lut_u``, ``lut_m`` (lists), ``decay_mult``, ``threshold``, ``u_shift``,
    ``u_offset``, ``m_shift``, ``m_frac_bits``, ``lut_frac_bits``, ``reset_scale``,
    ``decay_bits``, ``comparison``, ``state_bits``, ``overflow``."""

    STATES = ("u", "m")


@implements(proc=SnncCLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySnncCLIFModel(_SnncNeuronModel):
    u: np.ndarray = _var64()
    m: np.ndarray = _var64()

    def step(self, x, t):
        p = self.proc_params
        lut_u, lut_m = fx_i64(p["lut_u"]), fx_i64(p["lut_m"])
        bits, mode = int(p["state_bits"]), p["overflow"]
        u = fx_rtz_shift(fx_i64(self.u) * int(p["decay_mult"]), int(p["decay_bits"])) + x
        u = fx_overflow(u, bits, mode)
        iu = np.clip(fx_asr(u, int(p["u_shift"])) - int(p["u_offset"]), 0, lut_u.size - 1)
        m = fx_rtz_shift(fx_i64(self.m) * lut_u[iu], int(p["lut_frac_bits"]))
        s = fx_fire(u, int(p["threshold"]), p["comparison"])
        m = m + s * (1 << int(p["m_frac_bits"]))
        im = np.clip(fx_asr(m, int(p["m_shift"])), 0, lut_m.size - 1)
        u = u - s * (int(p["threshold"]) + fx_rtz_shift(lut_m[im] * int(p["reset_scale"]), int(p["lut_frac_bits"])))
        self.u[:] = fx_overflow(u, bits, mode)
        self.m[:] = fx_overflow(m, bits, mode)
        return s


# --- IntRF (S5 resonate-and-fire) ------------------------------------------------------------


class SnncRF(AbstractProcess):
    """``snnc.ir.intneurons.IntRF``: complex state (``re``, ``im``), inputs ``a_real_in`` and
    ``a_imag_in`` (the two accumulators of a complex synapse), spike ``re' (cmp) threshold``, no
    reset. Vars ``decay_real``, ``decay_imag``; proc params ``threshold``, ``decay_bits``,
    ``comparison``, ``state_bits``, ``overflow``, ``spike_rule`` ('re': S5; 'phase': also
    im' >= 0 and im < 0, lava.proc.rf's rule; 'iz': spike on im', then re = 0, im = threshold - 1,
    lava.proc.rf_iz)."""

    def __init__(self, *, shape, decay_real, decay_imag, name=None, **params):
        shape = tuple(int(s) for s in shape)
        super().__init__(shape=shape, name=name, **params)
        self.a_real_in = InPort(shape=shape)
        self.a_imag_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.re = Var(shape=shape, init=0)
        self.im = Var(shape=shape, init=0)
        self.decay_real = Var(shape=shape, init=_full(decay_real, shape))
        self.decay_imag = Var(shape=shape, init=_full(decay_imag, shape))


@implements(proc=SnncRF, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySnncRFModel(PyLoihiProcessModel):
    a_real_in: PyInPort = _IN64
    a_imag_in: PyInPort = _IN64
    s_out: PyOutPort = _OUT64
    re: np.ndarray = _var64()
    im: np.ndarray = _var64()
    decay_real: np.ndarray = _var64()
    decay_imag: np.ndarray = _var64()

    def run_spk(self):
        p = self.proc_params
        in_re, in_im = fx_i64(self.a_real_in.recv()), fx_i64(self.a_imag_in.recv())
        dr, di, d = self.decay_real, self.decay_imag, int(p["decay_bits"])
        re, im = fx_i64(self.re), fx_i64(self.im)
        re2 = fx_rtz_shift(dr * re, d) - fx_rtz_shift(di * im, d) + in_re
        im2 = fx_rtz_shift(di * re, d) + fx_rtz_shift(dr * im, d) + in_im
        re2 = fx_overflow(re2, int(p["state_bits"]), p["overflow"])
        im2 = fx_overflow(im2, int(p["state_bits"]), p["overflow"])
        rule = p.get("spike_rule", "re")
        if rule == "iz":                                # lava.proc.rf_iz: spike on Im, then reset
            s = fx_fire(im2, int(p["threshold"]), p["comparison"])
            re2 = np.where(s != 0, 0, re2)
            im2 = np.where(s != 0, int(p["threshold"]) - 1, im2)
        else:
            s = fx_fire(re2, int(p["threshold"]), p["comparison"])
        if rule == "phase":                             # before the state update: ``im`` may be a view of it
            s = s * (im2 >= 0).astype(s.dtype) * (im < 0).astype(s.dtype)
        self.re[:] = re2
        self.im[:] = im2
        self.s_out.send(s)


# --- IntLMHT ---------------------------------------------------------------------------------


class SnncLMHT(_SnncNeuron):
    """``snnc.ir.intneurons.IntLMHT``: graded level output k in 0..levels. State ``v`` (starts at
    ``v_init``; idle, v held and output 0, for t < ``phase``; restarts at t = phase + k *
    ``window`` when window > 0). Proc params ``leak_mult``, ``threshold``, ``levels``, ``v_init``
    (= ``state_init``), ``window``, ``phase``, ``decay_bits``, ``state_bits``, ``overflow``."""

    STATES = ("v",)


@implements(proc=SnncLMHT, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySnncLMHTModel(_SnncNeuronModel):
    v: np.ndarray = _var64()

    def step(self, x, t):
        p = self.proc_params
        v = fx_i64(self.v)
        phase = int(p.get("phase", 0))
        if t < phase:
            return np.zeros_like(v)
        window = int(p.get("window", 0))
        if window and (t - phase) % window == 0 and t > phase:
            v = np.full_like(v, int(p["state_init"]))
        thr = int(p["threshold"])
        h = fx_rtz_shift(v * int(p["leak_mult"]), int(p["decay_bits"])) + x
        k = np.clip(np.floor_divide(h, thr), 0, int(p["levels"]))
        self.v[:] = fx_overflow(h - k * thr, int(p["state_bits"]), p["overflow"])
        return k


# --- IntTimeMix (streaming: one window of latency) --------------------------------------------


class SnncTimeMix(AbstractProcess):
    """``snnc.ir.intneurons.IntTimeMix`` with latency W (the loihi2 form): LM-HT's W x W time
    mixing, causal, one window late. ``a_in`` -> ``s_out`` (same shape, same step). Vars
    ``buffer`` and ``mixed`` of shape (*shape, W): the current window's inputs and the mixed
    previous window (window position last, so that a trace in the IR layout is (W, *ir_shape)).
    Per step t >= ``phase``, i = (t - phase) % W: send mixed[..., i]; buffer[..., i] = input;
    at i = W - 1 mixed[..., r] = rtz(sum_j coefficients[r][j] * buffer[..., j], frac_bits).
    Before ``phase``: send 0, ignore the input. Proc params ``coefficients`` (W x W nested
    list), ``frac_bits``, ``phase``."""

    def __init__(self, *, shape, coefficients, name=None, **params):
        shape = tuple(int(s) for s in shape)
        w = len(coefficients)
        super().__init__(shape=shape, coefficients=coefficients, name=name, **params)
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.buffer = Var(shape=(*shape, w), init=0)
        self.mixed = Var(shape=(*shape, w), init=0)


@implements(proc=SnncTimeMix, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySnncTimeMixModel(PyLoihiProcessModel):
    a_in: PyInPort = _IN64
    s_out: PyOutPort = _OUT64
    buffer: np.ndarray = _var64()
    mixed: np.ndarray = _var64()

    def run_spk(self):
        p = self.proc_params
        x = fx_i64(self.a_in.recv())
        t, phase = self.time_step - 1, int(p["phase"])
        if t < phase:
            self.s_out.send(np.zeros_like(x))
            return
        c = fx_i64(p["coefficients"])
        w = c.shape[0]
        i = (t - phase) % w
        self.s_out.send(fx_i64(self.mixed[..., i]).copy())
        self.buffer[..., i] = x
        if i == w - 1:
            acc = np.einsum("rj,...j->...r", c, fx_i64(self.buffer))
            self.mixed[:] = fx_rtz_shift(acc, int(p["frac_bits"]))


# --- IntLNM ----------------------------------------------------------------------------------


class SnncLNM(_SnncNeuron):
    """``snnc.ir.intneurons.IntLNM``: polynomial IF (Horner form). State ``v``. Proc params
    ``coefficients`` (list, c0..cd), ``frac_bits``, ``threshold``, ``v_reset``, ``v_min``,
    ``v_max``, ``reset``, ``comparison``, ``form``."""

    STATES = ("v",)


@implements(proc=SnncLNM, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySnncLNMModel(_SnncNeuronModel):
    v: np.ndarray = _var64()

    def step(self, x, t):
        p = self.proc_params
        v = fx_i64(self.v)
        c = fx_i64(p["coefficients"])
        f = np.full_like(v, c[-1])
        for ck in c[-2::-1]:
            f = fx_rtz_shift(f * v, int(p["frac_bits"])) + ck
        h = (v + f + x) if p["form"] == "increment" else (f + x)
        h = np.clip(h, int(p["v_min"]), int(p["v_max"]))
        thr = int(p["threshold"])
        s = fx_fire(h, thr, p["comparison"])
        self.v[:] = np.where(s > 0, int(p["v_reset"]), h) if p["reset"] == "zero" else h - s * thr
        return s


# --- synapses --------------------------------------------------------------------------------


class SnncDense(AbstractProcess):
    """``snnc.ir.intnodes.IntDense`` with any widths and weights (used where Lava's ``Dense``
    would clip, truncate or wrap differently). ``s_in`` [n_in] -> ``a_out`` [n_out]. Vars
    ``weights`` int64[n_out, n_in], ``a_buff``; proc params ``weight_exp``, ``binary``,
    ``acc_bits``, ``out_bits``, ``latency`` (0 or 1)."""

    def __init__(self, *, weights, name=None, **params):
        weights = np.asarray(weights, np.int64)
        super().__init__(name=name, **params)
        self.s_in = InPort(shape=(weights.shape[1],))
        self.a_out = OutPort(shape=(weights.shape[0],))
        self.weights = Var(shape=weights.shape, init=weights)
        self.a_buff = Var(shape=(weights.shape[0],), init=0)


@implements(proc=SnncDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySnncDenseModel(PyLoihiProcessModel):
    s_in: PyInPort = _IN64
    a_out: PyOutPort = _OUT64
    weights: np.ndarray = _var64()
    a_buff: np.ndarray = _var64()

    def run_spk(self):
        p = self.proc_params
        if p["latency"]:
            self.a_out.send(self.a_buff)
        x = fx_i64(self.s_in.recv())
        if p["binary"]:
            x = fx_binarize(x)
        acc = fx_matmul(self.weights, x)
        if int(p["acc_bits"]) < 64:
            acc = fx_wrap(acc, int(p["acc_bits"]))
        acc = fx_shift_exp(acc, int(p["weight_exp"]))
        if int(p["out_bits"]) < 64:
            acc = fx_wrap(acc, int(p["out_bits"]))
        self.a_buff[:] = acc
        if not p["latency"]:
            self.a_out.send(self.a_buff)


class SnncConv(AbstractProcess):
    """``snnc.ir.intnodes.IntConv2d`` (any widths, weight_exp, bias) and ``SumPool2d`` (a
    ones kernel, graded, no wrap). Ports in Lava's (W, H, C) layout: ``s_in`` [W, H, C_in] ->
    ``a_out`` [W', H', C_out]. Vars ``weight`` int64[C_out, C_in/groups, kH, kW] (torch layout,
    cross-correlation), ``bias`` int64[C_out], ``a_buf``; proc params ``stride``, ``padding``,
    ``dilation`` ((y, x) pairs), ``groups``, ``weight_exp``, ``binary``, ``out_bits``,
    ``latency``, ``in_shape`` / ``out_shape`` (C, H, W)."""

    def __init__(self, *, weight, bias, in_shape, out_shape, name=None, **params):
        weight = np.asarray(weight, np.int64)
        in_shape, out_shape = tuple(int(s) for s in in_shape), tuple(int(s) for s in out_shape)
        super().__init__(in_shape=in_shape, out_shape=out_shape, name=name, **params)
        self.s_in = InPort(shape=in_shape[::-1])
        self.a_out = OutPort(shape=out_shape[::-1])
        self.weight = Var(shape=weight.shape, init=weight)
        self.bias = Var(shape=(out_shape[0],), init=_full(bias, (out_shape[0],)))
        self.a_buf = Var(shape=out_shape[::-1], init=0)


@implements(proc=SnncConv, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySnncConvModel(PyLoihiProcessModel):
    s_in: PyInPort = _IN64
    a_out: PyOutPort = _OUT64
    weight: np.ndarray = _var64()
    bias: np.ndarray = _var64()
    a_buf: np.ndarray = _var64()

    def run_spk(self):
        p = self.proc_params
        if p["latency"]:
            self.a_out.send(self.a_buf)
        x = fx_i64(self.s_in.recv()).transpose(2, 1, 0)
        if p["binary"]:
            x = fx_binarize(x)
        acc = fx_conv2d(x, self.weight, p["stride"], p["padding"], p["dilation"], int(p["groups"]))
        acc = acc + self.bias.reshape(-1, 1, 1)
        acc = fx_shift_exp(acc, int(p["weight_exp"]))
        if int(p["out_bits"]) < 64:
            acc = fx_wrap(acc, int(p["out_bits"]))
        self.a_buf[:] = acc.transpose(2, 1, 0)
        if not p["latency"]:
            self.a_out.send(self.a_buf)


class SnncComplexDense(AbstractProcess):
    """``snnc.ir.intneurons.IntComplexDense`` as one process (used when two Lava ``Dense`` could
    wrap at 32 bits): ``s_in`` [n_in] -> ``a_real_out``, ``a_imag_out`` [n_out]; int64
    accumulators shifted left by ``weight_exp``; proc params ``latency``, ``input_kind``
    ('binary': any non-zero input is one spike; 'graded': payloads)."""

    def __init__(self, *, weight_real, weight_imag, name=None, **params):
        wr, wi = np.asarray(weight_real, np.int64), np.asarray(weight_imag, np.int64)
        super().__init__(name=name, **params)
        self.s_in = InPort(shape=(wr.shape[1],))
        self.a_real_out = OutPort(shape=(wr.shape[0],))
        self.a_imag_out = OutPort(shape=(wr.shape[0],))
        self.weight_real = Var(shape=wr.shape, init=wr)
        self.weight_imag = Var(shape=wi.shape, init=wi)
        self.re_buff = Var(shape=(wr.shape[0],), init=0)
        self.im_buff = Var(shape=(wr.shape[0],), init=0)


@implements(proc=SnncComplexDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySnncComplexDenseModel(PyLoihiProcessModel):
    s_in: PyInPort = _IN64
    a_real_out: PyOutPort = _OUT64
    a_imag_out: PyOutPort = _OUT64
    weight_real: np.ndarray = _var64()
    weight_imag: np.ndarray = _var64()
    re_buff: np.ndarray = _var64()
    im_buff: np.ndarray = _var64()

    def run_spk(self):
        p = self.proc_params
        if p["latency"]:
            self.a_real_out.send(self.re_buff)
            self.a_imag_out.send(self.im_buff)
        x = fx_i64(self.s_in.recv())
        if p.get("input_kind", "graded") == "binary":
            x = (x != 0).astype(x.dtype)
        self.re_buff[:] = fx_shl(fx_matmul(self.weight_real, x), int(p["weight_exp"]))
        self.im_buff[:] = fx_shl(fx_matmul(self.weight_imag, x), int(p["weight_exp"]))
        if not p["latency"]:
            self.a_real_out.send(self.re_buff)
            self.a_imag_out.send(self.im_buff)


class SnncDelay(AbstractProcess):
    """A delay line: ``out`` at step t sends what ``inp`` received at step t - ``delay``
    (``delay`` >= 1; zeros before). Sends before it receives, so it also breaks recurrent loops.
    Realizes IR edge delays that no Lava connection process absorbs."""

    def __init__(self, *, shape, delay, name=None):
        shape = tuple(int(s) for s in shape)
        super().__init__(shape=shape, delay=int(delay), name=name)
        self.inp = InPort(shape=shape)
        self.out = OutPort(shape=shape)
        self.buf = Var(shape=(int(delay), *shape), init=0)


@implements(proc=SnncDelay, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySnncDelayModel(PyLoihiProcessModel):
    inp: PyInPort = _IN64
    out: PyOutPort = _OUT64
    buf: np.ndarray = _var64()

    def run_spk(self):
        self.out.send(self.buf[0].copy())
        x = fx_i64(self.inp.recv())
        self.buf[:-1] = self.buf[1:].copy()
        self.buf[-1] = x
