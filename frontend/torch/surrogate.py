"""Surrogate gradients for the spike nonlinearity.

The forward pass of every spiking layer is the exact step function of its IR node,
``s = 1[z > 0]`` (comparison ``'>'``) or ``s = 1[z >= 0]`` (``'>='``), where ``z = h - theta``
is the membrane minus the threshold (membrane units). The backward pass replaces the Dirac
derivative of the step by a smooth or box-shaped stand-in ``ds/dz = g(z)``, one of:

==================  ===============================================  ==================================
name                g(z)                                             used by
==================  ===============================================  ==================================
``fast_sigmoid``    1 / (slope * |z| + 1)^2, slope = 25              default of LIF/CubaLIF/IF/LIFB/LNM
                                                                     (SuperSpike; snnTorch's default)
``atan``            alpha / 2 / (1 + (pi/2 * alpha * z)^2), alpha=2  spikingjelly's default
``rectangle``       1/width if |z| <= width/2 else 0, width = 1      CLIF (authors' Rectangle, alpha=1)
``multi_gaussian``  (1+h) G(z; 0, sigma) - h G(z; sigma, s*sigma)    S5-RF (h=0.15, sigma=0.5, s=6);
                    - h G(z; -sigma, s*sigma), G(z; mu, sd) =        G is unnormalised, as in the
                    exp(-(z-mu)^2 / (2 sd^2))                        authors' code
==================  ===============================================  ==================================

LM-HT's straight-through window is specific to its multi-level output and lives in
:mod:`.lmht`. Surrogates only change gradients, never the forward values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from snnc.ir.errors import ParameterError

COMPARISONS = (">", ">=")


class Surrogate:
    """Base class: ``grad(z)`` is the stand-in derivative ds/dz of the spike at ``z = h - theta``."""

    name = "surrogate"

    def grad(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def describe(self) -> str:
        """Short text for the exported node's metadata, e.g. ``'fast_sigmoid(slope=25)'``."""
        params = ", ".join(f"{k}={v:g}" for k, v in vars(self).items())
        return f"{self.name}({params})"


@dataclass(frozen=True)
class FastSigmoid(Surrogate):
    """g(z) = 1 / (slope * |z| + 1)^2 (Zenke & Ganguli's SuperSpike)."""

    slope: float = 25.0
    name = "fast_sigmoid"

    def grad(self, z):
        return 1.0 / (self.slope * z.abs() + 1.0) ** 2


@dataclass(frozen=True)
class ATan(Surrogate):
    """g(z) = alpha / 2 / (1 + (pi/2 * alpha * z)^2), the derivative of atan(pi/2 alpha z) / pi + 1/2."""

    alpha: float = 2.0
    name = "atan"

    def grad(self, z):
        return (self.alpha / 2.0) / (1.0 + (math.pi / 2.0 * self.alpha * z) ** 2)


@dataclass(frozen=True)
class Rectangle(Surrogate):
    """g(z) = 1/width for |z| <= width/2, else 0 (CLIF's default with width = alpha = 1)."""

    width: float = 1.0
    name = "rectangle"

    def grad(self, z):
        return (z.abs() <= self.width / 2.0).to(z.dtype) / self.width


@dataclass(frozen=True)
class MultiGaussian(Surrogate):
    """g(z) = (1+h) G(z; 0, sigma) - h G(z; sigma, s sigma) - h G(z; -sigma, s sigma) with the
    unnormalised Gaussian G(z; mu, sd) = exp(-(z - mu)^2 / (2 sd^2)) (S5-RF's default)."""

    h: float = 0.15
    sigma: float = 0.5
    s: float = 6.0
    name = "multi_gaussian"

    def grad(self, z):
        def gauss(mu, sd):
            return torch.exp(-0.5 * ((z - mu) / sd) ** 2)

        wide = self.s * self.sigma
        return (1.0 + self.h) * gauss(0.0, self.sigma) - self.h * gauss(self.sigma, wide) \
            - self.h * gauss(-self.sigma, wide)


SURROGATES: dict[str, type[Surrogate]] = {
    cls.name: cls for cls in (FastSigmoid, ATan, Rectangle, MultiGaussian)
}


def get_surrogate(spec: str | Surrogate) -> Surrogate:
    """A surrogate from a name in :data:`SURROGATES` (default parameters) or an instance."""
    if isinstance(spec, Surrogate):
        return spec
    if isinstance(spec, str) and spec in SURROGATES:
        return SURROGATES[spec]()
    raise ParameterError(f"unknown surrogate {spec!r}", field="surrogate",
                         hint=f"use one of {sorted(SURROGATES)} or a Surrogate instance")


def check_comparison(comparison: str) -> str:
    if comparison not in COMPARISONS:
        raise ParameterError(f"comparison {comparison!r} not in {COMPARISONS}", field="comparison")
    return comparison


class _SpikeFunction(torch.autograd.Function):
    """Forward: the exact step 1[z > 0] or 1[z >= 0] in z's dtype. Backward: g(z)."""

    @staticmethod
    def forward(ctx, z, surrogate, inclusive):
        ctx.save_for_backward(z)
        ctx.surrogate = surrogate
        return (z >= 0 if inclusive else z > 0).to(z.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (z,) = ctx.saved_tensors
        return grad_out * ctx.surrogate.grad(z), None, None


def spike(z: torch.Tensor, surrogate: Surrogate, comparison: str) -> torch.Tensor:
    """Spikes ``float[*]`` in {0, 1} of ``z = h - theta`` (any shape, real dtype).

    ``1[z > 0]`` equals ``1[h > theta]`` bit for bit in IEEE arithmetic (``h - theta`` is zero
    only when ``h == theta``), so this is the IR's ``h (comparison) theta`` test."""
    return _SpikeFunction.apply(z, surrogate, comparison == ">=")
