"""Torch spiking layers vs independent numpy transcriptions of docs/neurons.md / the IR node
equations (written here, not calling the layer code): spikes identical, states within 1e-5;
plus a gradient smoke test per layer (finite, nonzero gradients)."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from snnc.frontend.torch import (  # noqa: E402
    CLIF,
    IF,
    LI,
    LIF,
    LIFB,
    LMHT,
    LNM,
    RF,
    CubaLIF,
    MultiGaussian,
    RFDense,
    hippo_legs_init,
)

T, B = 12, 3
ATOL = 1e-5


@pytest.fixture(autouse=True)
def float64_default():
    """Layers built in these tests hold float64 parameters, so the references use the same values."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    yield
    torch.set_default_dtype(old)


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _run(layer, x: np.ndarray):
    layer.record_states = True
    with torch.no_grad():
        y = layer(torch.as_tensor(x)).numpy()
    return y, {k: v.numpy() for k, v in layer.states.items()}


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=0, atol=ATOL)


# ------------------------------------------------------------------------------------------
# numpy references
# ------------------------------------------------------------------------------------------


def ref_discrete_lif(x, beta, thr, *, alpha=None, reset="zero", v_reset=0.0, comparison=">", v_min=None):
    """DiscreteLIF with unit gains: i = alpha i + x; h = beta v + i; z = h > thr; reset."""
    i = np.zeros(x.shape[1:])
    v = np.zeros(x.shape[1:])
    zs, vs, is_ = [], [], []
    for t in range(x.shape[0]):
        i = x[t] if alpha is None else alpha * i + x[t]
        h = beta * v + i
        if v_min is not None:
            h = np.maximum(h, v_min)
        if thr is None:
            z, v = h, h
        else:
            z = (h > thr) if comparison == ">" else (h >= thr)
            v = {"zero": np.where(z, v_reset, h), "subtract": h - thr * z, "none": h}[reset]
            z = z.astype(float)
        zs.append(z), vs.append(v), is_.append(i)
    return np.stack(zs), {"v": np.stack(vs), "i": np.stack(is_)}


def ref_lifb(x, leak, gain, thr, step, N, amps, reset, comparison, v_min=None):
    """docs/neurons.md#lifb: h = leak v + gain x; n = #{k: h cmp thr + k step}; out = A[n]; reset."""
    v = np.zeros(x.shape[1:])
    outs, vs = [], []
    for t in range(x.shape[0]):
        h = leak * v + gain * x[t]
        n = sum(((h > thr + k * step) if comparison == ">" else (h >= thr + k * step)).astype(int)
                for k in range(N))
        if reset == "subtract":
            v = h - n * step
        elif reset == "zero":
            v = np.where(n > 0, 0.0, h)
        else:
            v = h * (1 - n)
        if v_min is not None:
            v = np.maximum(v, v_min)
        outs.append(np.asarray(amps)[n]), vs.append(v)
    return np.stack(outs), {"v": np.stack(vs)}


def ref_clif(x, tau=2.0, thr=1.0):
    """docs/neurons.md#clif, authors' CLIF: charge, m-gate, fire (>=), strengthen, complementary reset."""
    u = np.zeros(x.shape[1:])
    m = np.zeros(x.shape[1:])
    ss, us, ms = [], [], []
    for t in range(x.shape[0]):
        u = (1 - 1 / tau) * u + x[t]
        m = m * _sig(u / tau)
        s = (u - thr >= 0).astype(float)
        m = m + s
        u = u - s * thr - s * _sig(m)
        ss.append(s), us.append(u), ms.append(m)
    return np.stack(ss), {"u": np.stack(us), "m": np.stack(ms)}


def ref_s5rf(s_in, B_c, Lambda, log_step, disc, readout=None, thr=1.0):
    """docs/neurons.md#s5-rf: u = B s; x = lam_bar x + B_bar u; y = V x; s = 1[Re y - 1 > 0]."""
    lam = -np.exp(Lambda[:, 0]) + 1j * Lambda[:, 1]
    delta = np.exp(log_step[:, 0])
    if disc == "dirac":
        lam_bar, b_bar = np.exp(lam * delta), delta + 0j
    elif disc == "zoh":
        lam_bar = np.exp(lam * delta)
        b_bar = (lam_bar - 1) / lam
    else:
        lam_bar = (1 + delta * lam / 2) / (1 - delta * lam / 2)
        b_bar = delta / (1 - delta * lam / 2)
    x = np.zeros((s_in.shape[1], B_c.shape[0]), complex)
    ss, xs = [], []
    for t in range(s_in.shape[0]):
        u = s_in[t] @ B_c.T
        x = lam_bar * x + b_bar * u
        y = x if readout is None else x @ readout.T
        ss.append((y.real - thr > 0).astype(float)), xs.append(x)
    return np.stack(ss), {"x": np.stack(xs)}


def ref_lmht(x, M, alpha, L, theta, v_init=0.0):
    """docs/neurons.md#lm-ht, authors' LMHTNeuron: I_t = sum_j 2 sig(M[t,j])/T x_j; H = lam V + I;
    k = clip(floor(H/theta), 0, L); o = k theta; V = H - o; windows of T steps."""
    Tw = M.shape[0]
    lam = _sig(alpha) + 0.5
    outs, vs = [], []
    for w in range(x.shape[0] // Tw):
        xw = x[w * Tw:(w + 1) * Tw]
        V = np.full(x.shape[1:], v_init)
        for t in range(Tw):
            I_t = sum(2 * _sig(M[t, j]) / Tw * xw[j] for j in range(Tw))
            H = lam * V + I_t
            k = np.clip(np.floor(H / theta), 0, L)
            V = H - k * theta
            outs.append(k * theta), vs.append(V)
    return np.stack(outs), {"v": np.stack(vs)}


def ref_lnm(x, c, thr, v_reset, reset, form, v_min, v_max):
    """docs/neurons.md#lnm: h = v + f(v) + x (or f(v) + x); clip; s = h >= thr; reset."""
    v = np.zeros(x.shape[1:])
    ss, vs = [], []
    for t in range(x.shape[0]):
        f = sum(ck * v ** k for k, ck in enumerate(c))          # power sum, not Horner
        h = (v + f + x[t]) if form == "increment" else (f + x[t])
        h = np.minimum(np.maximum(h, v_min), v_max)
        s = (h >= thr).astype(float)
        v = np.where(s > 0, v_reset, h) if reset == "zero" else h - thr * s
        ss.append(s), vs.append(v)
    return np.stack(ss), {"v": np.stack(vs)}


# ------------------------------------------------------------------------------------------
# forward equivalence
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["lif_zero", "lif_subtract_ge", "lif_per_neuron", "cubalif", "if", "li",
                                  "lif_vmin"])
def test_discrete_lif_family_matches_numpy(case):
    rng = np.random.default_rng(1)
    x = rng.normal(0.4, 0.8, (T, B, 7))
    beta_pn = rng.uniform(0.5, 1.0, 7)
    layer, kw = {
        "lif_zero": (LIF(beta=0.8, threshold=1.0), dict(beta=0.8, thr=1.0)),
        "lif_subtract_ge": (LIF(0.9, 0.7, reset="subtract", comparison=">="),
                            dict(beta=0.9, thr=0.7, reset="subtract", comparison=">=")),
        "lif_per_neuron": (LIF(beta=torch.tensor(beta_pn), threshold=1.2, v_reset=-0.3),
                           dict(beta=beta_pn, thr=1.2, v_reset=-0.3)),
        "cubalif": (CubaLIF(alpha=0.6, beta=0.85), dict(alpha=0.6, beta=0.85, thr=1.0)),
        "if": (IF(threshold=1.5, reset="subtract"), dict(beta=1.0, thr=1.5, reset="subtract")),
        "li": (LI(beta=0.7), dict(beta=0.7, thr=None)),
        "lif_vmin": (LIF(0.9, v_min=-0.5), dict(beta=0.9, thr=1.0, v_min=-0.5)),
    }[case]
    y, st = _run(layer, x)
    z_ref, st_ref = ref_discrete_lif(x, **kw)
    if kw["thr"] is None:
        _close(y, z_ref)
    else:
        assert np.array_equal(y, z_ref)
        assert 0 < y.mean() < 1
    for name in st:
        _close(st[name], st_ref[name])


@pytest.mark.parametrize("variant", ["count", "braincog", "zero_vmin", "strict_amplitudes"])
def test_lifb_matches_numpy(variant):
    rng = np.random.default_rng(2)
    x = rng.normal(1.5, 2.0, (T, B, 6))
    if variant == "count":
        layer = LIFB.count_neuron(leak=0.75, threshold=0.5, max_burst=4)
        ref = dict(leak=0.75, gain=1.0, thr=0.5, step=0.5, N=4, amps=np.arange(5), reset="subtract",
                   comparison=">=")
    elif variant == "braincog":
        layer = LIFB.braincog()
        ref = dict(leak=0.5, gain=0.5, thr=0.5, step=1.0, N=5, amps=[0, 1, 3, 4.5, 6, 7.5],
                   reset="multiplicative", comparison=">")
        x = rng.normal(2.0, 3.0, (T, B, 6))
    elif variant == "zero_vmin":
        layer = LIFB(0.9, 1.0, 3, threshold_step=0.75, reset="zero", v_min=-1.0)
        ref = dict(leak=0.9, gain=1.0, thr=1.0, step=0.75, N=3, amps=np.arange(4), reset="zero",
                   comparison=">=", v_min=-1.0)
    else:
        amps = [0.0, 1.0, 2.5, 3.0]
        layer = LIFB(1.0, 0.8, 3, threshold_step=0.6, input_gain=0.5, amplitudes=amps, comparison=">")
        ref = dict(leak=1.0, gain=0.5, thr=0.8, step=0.6, N=3, amps=amps, reset="subtract", comparison=">")
    y, st = _run(layer, x)
    y_ref, st_ref = ref_lifb(x, **ref)
    assert np.array_equal(y, y_ref)
    assert len(np.unique(y)) >= 3, "rest, regular and burst modes should all occur"
    _close(st["v"], st_ref["v"])


def test_clif_matches_numpy():
    rng = np.random.default_rng(3)
    x = rng.normal(0.6, 1.0, (T, B, 5, 4))
    y, st = _run(CLIF(), x)
    y_ref, st_ref = ref_clif(x)
    assert np.array_equal(y, y_ref) and 0 < y.mean() < 1
    _close(st["u"], st_ref["u"])
    _close(st["m"], st_ref["m"])


@pytest.mark.parametrize("disc", ["dirac", "zoh", "bilinear"])
@pytest.mark.parametrize("with_readout", [False, True])
def test_s5rf_matches_numpy(disc, with_readout):
    torch.manual_seed(4)
    rng = np.random.default_rng(4)
    H, P = 5, 8
    readout = hippo_legs_init(P, 2)[1] if with_readout else None
    dense, rf = RFDense(H, P), RF(P, num_blocks=2, discretization=disc, readout=readout)
    with torch.no_grad():                          # large steps and inputs so that neurons fire
        dense.weight.mul_(3.0)
        rf.log_step.copy_(torch.as_tensor(rng.uniform(np.log(0.1), np.log(0.8), (P, 1))))
        rf.Lambda[:, 0].copy_(torch.as_tensor(rng.uniform(-3, 0, P)))
    s_in = (rng.random((T, B, H)) < 0.5).astype(float)
    rf.record_states = True
    with torch.no_grad():
        y = rf(dense(torch.as_tensor(s_in))).numpy()
    x_t = rf.states["x"].numpy()
    y_ref, st_ref = ref_s5rf(s_in, dense.complex_weight.detach().numpy(), rf.Lambda.detach().numpy(),
                             rf.log_step.detach().numpy(), disc, readout)
    assert np.array_equal(y, y_ref) and 0 < y.mean() < 1
    _close(x_t, st_ref["x"])


def test_hippo_init_matches_neurons_md():
    """docs/neurons.md#s5-rf: HiPPO-LegS normal part, Re = -0.5, |Im| in 0.56..4.6 for N = 4."""
    lam, V, Vinv = hippo_legs_init(8, 2)
    assert np.allclose(lam.real, -0.5)
    assert np.isclose(np.abs(lam.imag).min(), 0.56, atol=0.01)
    assert np.isclose(np.abs(lam.imag).max(), 4.6, atol=0.05)
    assert np.allclose(V @ Vinv, np.eye(8))


@pytest.mark.parametrize("levels,windows", [(2, 1), (4, 2), (1, 1)])
def test_lmht_matches_numpy(levels, windows):
    rng = np.random.default_rng(5)
    Tw = 4
    layer = LMHT(Tw, levels=levels)
    with torch.no_grad():
        layer.M.copy_(torch.as_tensor(rng.normal(0, 1.5, (Tw, Tw))))
        layer.alpha.fill_(0.7)
    x = rng.normal(0.8, 1.2, (Tw * windows, B, 6))
    y, st = _run(layer, x)
    y_ref, st_ref = ref_lmht(x, layer.M.detach().numpy(), 0.7, levels, 2.0 / levels)
    assert np.array_equal(y, y_ref)
    assert len(np.unique(y)) == levels + 1
    _close(st["v"], st_ref["v"])


@pytest.mark.parametrize("coeffs,reset,form", [([0.0, -0.5, 0.0], "zero", "increment"),
                                               ([0.05, -0.3, 0.1, -0.04], "subtract", "increment"),
                                               ([0.1, 0.6], "zero", "map")])
def test_lnm_matches_numpy(coeffs, reset, form):
    rng = np.random.default_rng(6)
    x = rng.normal(0.5, 1.0, (T, B, 9))
    layer = LNM(coefficients=coeffs, threshold=1.0, v_reset=-0.1, reset=reset, form=form, v_min=-3.0,
                v_max=3.0)
    c = layer.coefficients.detach().numpy()
    y, st = _run(layer, x)
    y_ref, st_ref = ref_lnm(x, c, 1.0, -0.1, reset, form, -3.0, 3.0)
    assert np.array_equal(y, y_ref) and 0 < y.mean() < 1
    _close(st["v"], st_ref["v"])


# ------------------------------------------------------------------------------------------
# gradients
# ------------------------------------------------------------------------------------------


def _grad_check(module, x, params_required=True):
    torch.manual_seed(0)
    x = x.clone().requires_grad_(True)
    module.train()
    y = module(x)
    loss = (y * torch.randn_like(y)).sum() + y.sum()
    loss.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    params = [(n, p) for n, p in module.named_parameters()]
    if params_required:
        assert params, "layer should have trainable parameters"
    for name, p in params:
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("make", [
    lambda: LIF(0.8, learn_beta=True), lambda: CubaLIF(0.5, 0.9, learn_alpha=True, learn_beta=True),
    lambda: IF(), lambda: LI(0.8, learn_beta=True), lambda: LIF(0.9, surrogate="atan", reset="subtract"),
])
def test_lif_family_gradients(make):
    layer = make()
    x = torch.rand(T, B, 6) * 1.5
    _grad_check(layer, x, params_required=bool(list(layer.parameters())))


def test_lifb_gradients():
    _grad_check(LIFB(0.8, 0.5, 4, learn_leak=True), torch.rand(T, B, 6) * 3)
    _grad_check(LIFB.braincog(learn_leak=True), torch.rand(T, B, 6) * 6)


def test_clif_gradients():
    _grad_check(CLIF(), torch.rand(T, B, 6) * 2, params_required=False)


def test_rf_gradients():
    torch.manual_seed(1)
    model = torch.nn.Sequential(RFDense(5, 8), RF(8, discretization="zoh", dt_min=0.1, dt_max=0.5))
    with torch.no_grad():
        model[0].weight.mul_(4.0)
    _grad_check(model, (torch.rand(T, B, 5) < 0.5).float())


def test_lmht_gradients():
    layer = LMHT(4, levels=2)
    with torch.no_grad():
        layer.M.normal_()
    _grad_check(layer, torch.rand(8, B, 6) * 2)


def test_lnm_gradients():
    _grad_check(LNM(degree=3, coefficients=[0.0, -0.5, 0.1, 0.0]), torch.rand(T, B, 6) * 1.5)


def test_surrogate_shapes():
    """The surrogates' documented formulas (spot values)."""
    from snnc.frontend.torch.surrogate import ATan, FastSigmoid, Rectangle

    z = torch.tensor([0.0, 0.3, -0.6])
    assert torch.allclose(FastSigmoid(25.0).grad(z), 1 / (25 * z.abs() + 1) ** 2)
    assert torch.allclose(ATan(2.0).grad(z), 1 / (1 + (math.pi * z) ** 2))
    assert torch.equal(Rectangle(1.0).grad(z), torch.tensor([1.0, 1.0, 0.0]))
    g0 = MultiGaussian().grad(torch.tensor([0.0]))
    assert torch.isclose(g0, torch.tensor([1.15 - 0.3 * math.exp(-0.5 / 36)]))
