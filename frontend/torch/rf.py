"""S5-RF: resonate-and-fire neurons as a diagonal S5 state-space layer (Huber et al. 2024;
docs/neurons.md#s5-rf), as the authors' JAX ``RFDense`` + ``RF`` (``ThomasEHuber/s5-rf``) in PyTorch.

:class:`RFDense` is the complex input synapse, ``u_t = B s_t`` with ``B: complex[P, H]`` (no
bias). :class:`RF` holds P neurons with complex state ``x: complex[B, P]``, x_{-1} = 0:

    lambda_p = -exp(Lambda[p, 0]) + i * Lambda[p, 1]      (continuous eigenvalue, Re < 0)
    Delta_p  = exp(log_step[p, 0])                        (step size, learnable)
    dirac:    lambda_bar = exp(lambda Delta),  B_bar = Delta
    zoh:      lambda_bar = exp(lambda Delta),  B_bar = (lambda_bar - 1) / lambda
    bilinear: lambda_bar = (1 + Delta lambda/2) / (1 - Delta lambda/2),  B_bar = Delta / (1 - Delta lambda/2)

    x_t = lambda_bar * x_{t-1} + B_bar * u_t
    y_t = V x_t                          (V: complex[P, P] readout, identity unless given)
    s_t = 1[Re(y_t) > theta]             (theta = 1, STRICT, binary, no reset, no refractory)

Surrogate: multi-Gaussian (h = 0.15, sigma = 0.5, s = 6) of Re(y) - theta, as the authors.

Export: ``RFDense`` becomes a complex ``Linear`` node, ``RF`` an ``RF`` node with
``decay = lambda_bar``; B_bar is folded into the rows of the preceding complex weight
(``W = diag(B_bar) B``). In exact arithmetic this is the same model; in floating point the
folded product is rounded in another order (relative differences ~1e-16 in float64).
When the RF input is not a single private Linear (e.g. a recurrent RF), B_bar stays a
complex ``Scale`` node.

Initialisation as the authors: Lambda from the normal part of the HiPPO-LegS matrix
(Re lambda = -0.5, Im lambda its eigenvalues) per block of ``P / num_blocks`` neurons,
log_step uniform in [log dt_min, log dt_max], and B complex Lecun-normal (each part with
std 1/sqrt(H)), optionally projected by ``vinv`` (the eigenvector matrix's inverse).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from snnc.ir import nodes as N
from snnc.ir.errors import ParameterError, ShapeError

from .neuron import SpikingNeuron, to_numpy
from .surrogate import Surrogate, get_surrogate, spike

DISCRETIZATIONS = ("dirac", "zoh", "bilinear")


def hippo_legs_normal(block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition of the normal part of the HiPPO-LegS matrix of size N = block_size.

    A_nk = -sqrt(2n+1) sqrt(2k+1) (n > k), -(n+1) (n = k), 0 (n < k); the normal part is
    S = A + p p^T with p_n = sqrt(n + 1/2), i.e. -1/2 I plus a skew-symmetric matrix.
    Returns (eigenvalues ``complex[N]`` with real part -1/2, eigenvectors ``complex[N, N]``)."""
    n = np.arange(block_size)
    q = np.sqrt(2 * n + 1.0)
    A = -(np.tril(q[:, None] * q[None, :]) - np.diag(n))
    p = np.sqrt(n + 0.5)
    S = A + p[:, None] * p[None, :]
    skew = S - np.diag(np.diag(S))
    imag, V = np.linalg.eigh(-1j * skew)          # -i * skew is Hermitian: real eigenvalues
    return np.mean(np.diag(S)) + 1j * imag, V


def hippo_legs_init(P: int, num_blocks: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lambda ``complex[P]``, V ``complex[P, P]``, V^-1 ``complex[P, P]``): block-diagonal
    HiPPO-LegS normal-part initialisation with ``num_blocks`` blocks of size P / num_blocks."""
    if P % num_blocks:
        raise ParameterError(f"P = {P} neurons do not split into {num_blocks} blocks", node="RF",
                             field="num_blocks")
    lam, V = hippo_legs_normal(P // num_blocks)
    big_v = np.zeros((P, P), np.complex128)
    size = P // num_blocks
    for b in range(num_blocks):
        big_v[b * size:(b + 1) * size, b * size:(b + 1) * size] = V
    return np.tile(lam, num_blocks), big_v, big_v.conj().T


class RFDense(nn.Module):
    """Complex synapse ``u = B s``: ``float or complex[*, H] -> complex[*, P]`` (any leading
    axes, e.g. [T, B, H]). ``weight``: float[P, H, 2] (real and imaginary parts, the authors'
    layout); :attr:`complex_weight` is the complex[P, H] view. With ``complex_output=False``
    the layer returns Re(B s) (the authors' ``keep_imag=False`` readout)."""

    def __init__(self, in_features: int, out_features: int, *, complex_output: bool = True,
                 vinv: np.ndarray | None = None) -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.complex_output = complex_output
        std = 1.0 / math.sqrt(self.in_features)
        w = torch.randn(self.out_features, self.in_features, 2) * std
        if vinv is not None:
            wc = torch.as_tensor(np.asarray(vinv), dtype=torch.complex128) @ torch.view_as_complex(w.double())
            w = torch.view_as_real(wc).to(torch.get_default_dtype())
        self.weight = nn.Parameter(w.contiguous())

    @property
    def complex_weight(self) -> torch.Tensor:
        return torch.view_as_complex(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        W = self.complex_weight
        y = x.to(W.dtype) @ W.T
        return y if self.complex_output else y.real

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"complex_output={self.complex_output}")


class RF(SpikingNeuron):
    """Multi-step S5-RF neurons: input current ``complex[T, B, P]`` (from :class:`RFDense`)
    -> binary spikes ``float[T, B, P]``. State: ``x`` (complex). See the module docstring.

    Args: ``features`` P; ``num_blocks`` HiPPO blocks; ``discretization`` 'dirac' (default,
    all but the first layer in the authors' configs) | 'zoh' | 'bilinear'; ``dt_min``,
    ``dt_max`` range of the initial Delta; ``threshold`` (1.0); ``readout`` V (complex[P, P] or
    None); ``surrogate`` (multi-Gaussian)."""

    state_names = ("x",)

    def __init__(self, features: int, *, num_blocks: int = 1, discretization: str = "dirac",
                 dt_min: float = 0.004, dt_max: float = 0.1, threshold: float = 1.0, readout=None,
                 surrogate: str | Surrogate = "multi_gaussian") -> None:
        super().__init__()
        if discretization not in DISCRETIZATIONS:
            raise ParameterError(f"discretization {discretization!r} not in {DISCRETIZATIONS}", node="RF",
                                 field="discretization")
        if not 0 < dt_min <= dt_max:
            raise ParameterError(f"need 0 < dt_min <= dt_max, got {dt_min}, {dt_max}", node="RF",
                                 field="dt_min")
        self.features = int(features)
        self.discretization = discretization
        self.threshold = float(threshold)
        self.surrogate = get_surrogate(surrogate)
        lam, _, _ = hippo_legs_init(self.features, num_blocks)
        dtype = torch.get_default_dtype()
        self.Lambda = nn.Parameter(torch.tensor(np.stack([np.log(-lam.real), lam.imag], -1), dtype=dtype))
        u = torch.rand(self.features, 1, dtype=dtype)
        self.log_step = nn.Parameter(u * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        if readout is not None:
            readout = torch.as_tensor(np.asarray(readout), dtype=torch.complex128)
            if tuple(readout.shape) != (self.features, self.features):
                raise ShapeError(f"readout must be complex[{self.features}, {self.features}], got "
                                 f"{tuple(readout.shape)}", node="RF", field="readout")
        self.register_buffer("readout", readout)

    def discretized(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(lambda_bar, B_bar), both ``complex[P]``, from Lambda and log_step."""
        lam = torch.complex(-torch.exp(self.Lambda[:, 0]), self.Lambda[:, 1])
        delta = torch.exp(self.log_step[:, 0]).to(lam.dtype)
        if self.discretization == "bilinear":
            inv = 1.0 / (1.0 - delta * lam / 2.0)
            return (1.0 + delta * lam / 2.0) * inv, delta * inv
        lam_bar = torch.exp(lam * delta)
        if self.discretization == "zoh":
            return lam_bar, (lam_bar - 1.0) / lam
        return lam_bar, delta

    def prepare(self) -> dict:
        lam_bar, b_bar = self.discretized()
        return {"lam_bar": lam_bar, "b_bar": b_bar}

    def init_state(self, x0, p):
        return {"x": torch.zeros(x0.shape, dtype=p["lam_bar"].dtype, device=x0.device)}

    def step(self, u, state, p):
        x = p["lam_bar"] * state["x"] + p["b_bar"] * u.to(p["lam_bar"].dtype)
        y = x if self.readout is None else x @ self.readout.to(x.dtype).T
        s = spike(y.real - self.threshold, self.surrogate, ">")
        return s, {"x": x}

    def export_nodes(self, shape):
        if tuple(shape) != (self.features,):
            raise ShapeError(f"RF with {self.features} neurons got input of per-sample shape {tuple(shape)}",
                             node="RF")
        lam_bar, b_bar = (to_numpy(a) for a in self.discretized())
        scale = N.Scale(scale=b_bar.real.copy() if self.discretization == "dirac" else b_bar)
        scale.metadata = {"torch_class": "RF", "part": "input_scale_b_bar", "fold_into_synapse": 1}
        node = N.RF(shape=tuple(shape), decay=lam_bar, v_threshold=self.threshold,
                    readout=None if self.readout is None else to_numpy(self.readout), comparison=">")
        node.metadata = {"torch_class": "RF", "discretization": self.discretization,
                         "surrogate": self.surrogate.describe()}
        return [("_bbar", scale), ("", node)]
