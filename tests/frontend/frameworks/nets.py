"""The corpus: per framework, a conv net with pooling and a recurrent net, built with the
framework's own layers, and its forward pass on a batch of inputs. Each builder returns
``(model, sample, forward)``: ``sample`` is what the exporter takes, ``forward(x)`` maps inputs
``float32[B, T, *shape]`` to the output spikes ``[B, T, n_out]`` as the framework computes them.
Weights are scaled up from the frameworks' initialisations so that every layer spikes."""

from __future__ import annotations

import numpy as np
import torch

CONV_IN = (2, 10, 10)
REC_IN = (6,)


def _scale(model, factor: float) -> None:
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(factor)


# -- snnTorch --------------------------------------------------------------------------------


def snntorch_conv():
    import snntorch as snn
    from snntorch import utils

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3), torch.nn.AvgPool2d(2), snn.Leaky(beta=0.9, init_hidden=True),
                              torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 5),
                              snn.Leaky(beta=0.8, init_hidden=True, output=True))
    _scale(net, 3.0)

    def forward(x):
        utils.reset(net)
        with torch.no_grad():
            return np.stack([net(torch.from_numpy(x[:, t]))[0].numpy() for t in range(x.shape[1])], 1)

    return net, torch.zeros(1, *CONV_IN), forward


def snntorch_rec():
    import snntorch as snn
    from snntorch import utils

    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(6, 8), snn.RLeaky(beta=0.9, linear_features=8, init_hidden=True),
                              torch.nn.Linear(8, 3), snn.Leaky(beta=0.8, init_hidden=True, output=True))
    _scale(net, 2.0)

    def forward(x):
        utils.reset(net)
        with torch.no_grad():
            return np.stack([net(torch.from_numpy(x[:, t]))[0].numpy() for t in range(x.shape[1])], 1)

    return net, torch.zeros(1, *REC_IN), forward


# -- Norse -----------------------------------------------------------------------------------


def _norse_forward(net):
    def forward(x):
        state, out = None, []
        with torch.no_grad():
            for t in range(x.shape[1]):
                y, state = net(torch.from_numpy(x[:, t]), state)
                out.append(y.numpy())
        return np.stack(out, 1)
    return forward


def norse_conv():
    import norse.torch as norse

    torch.manual_seed(2)
    net = norse.SequentialState(torch.nn.Conv2d(2, 4, 3), torch.nn.AvgPool2d(2), norse.LIFBoxCell(),
                                torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 5), norse.LIFBoxCell())
    _scale(net, 40.0)
    return net, torch.zeros(1, *CONV_IN), _norse_forward(net)


def norse_rec():
    import norse.torch as norse

    torch.manual_seed(3)
    net = norse.SequentialState(torch.nn.Linear(6, 8), norse.LIFRecurrentCell(8, 8), torch.nn.Linear(8, 3),
                                norse.LIFBoxCell())
    _scale(net, 10.0)
    return net, torch.zeros(1, *REC_IN), _norse_forward(net)


# -- Sinabs ----------------------------------------------------------------------------------


def sinabs_conv(batch: int = 2):
    import sinabs.layers as sl

    torch.manual_seed(4)
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, bias=False), sl.SumPool2d(2), sl.IAFSqueeze(batch_size=batch),
                              torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 5, bias=False),
                              sl.IAFSqueeze(batch_size=batch))

    def forward(x):
        for m in net:
            if hasattr(m, "reset_states"):
                m.reset_states()
        B, T = x.shape[:2]
        with torch.no_grad():
            y = net(torch.from_numpy(x.reshape(B * T, *x.shape[2:])))
        for m in net:
            if hasattr(m, "reset_states"):
                m.reset_states()
        return y.numpy().reshape(B, T, -1)

    net(torch.zeros(batch, *CONV_IN))      # sinabs's exporter reads shapes from v_mem
    return net, torch.zeros(batch, *CONV_IN), forward


# -- Rockpool --------------------------------------------------------------------------------


def rockpool_rec():
    from rockpool.nn.combinators import Sequential
    from rockpool.nn.modules import LIFTorch, LinearTorch

    torch.manual_seed(5)
    net = Sequential(LinearTorch((6, 8)), LIFTorch(8, has_rec=True, max_spikes_per_dt=1, dt=1e-3),
                     LinearTorch((8, 3)), LIFTorch(3, max_spikes_per_dt=1, dt=1e-3))
    with torch.no_grad():
        net[0].weight.mul_(3.0)
        net[2].weight.mul_(3.0)

    def forward(x):
        net.reset_state()
        with torch.no_grad():
            out = net(torch.from_numpy(x))
        return (out[0] if isinstance(out, tuple) else out).numpy()

    return net, torch.zeros(1, 6), forward


# -- Spyx (jax, flax nnx; runs channels-last and time-major) -------------------------------


def _spyx_forward(net):
    import jax.numpy as jnp
    import spyx.nn as snn

    def forward(x):
        xt = np.moveaxis(x, 1, 0)                                    # [T, B, *shape]
        if xt.ndim == 5:
            xt = xt.transpose(0, 1, 3, 4, 2)                         # (C, H, W) -> (H, W, C)
        y, _ = snn.run(net, jnp.asarray(xt))
        return np.moveaxis(np.asarray(y), 0, 1)
    return forward


def spyx_conv():
    import spyx.nn as snn
    from flax import nnx

    rngs = nnx.Rngs(6)
    net = snn.Sequential(nnx.Conv(2, 4, (3, 3), padding="VALID", rngs=rngs), snn.SumPool((2, 2), (2, 2), "VALID"),
                         snn.LIF((4, 4, 4), rngs=rngs), snn.Flatten(), nnx.Linear(64, 5, rngs=rngs),
                         snn.LIF((5,), beta=0.8, rngs=rngs))
    return net, {"input_shape": {"input": np.array(CONV_IN)}, "output_shape": {"output": np.array([5])}}, \
        _spyx_forward(net)


def spyx_rec():
    import spyx.nn as snn
    from flax import nnx

    rngs = nnx.Rngs(7)
    net = snn.Sequential(nnx.Linear(6, 8, rngs=rngs), snn.RLIF((8,), beta=0.9, rngs=rngs),
                         nnx.Linear(8, 3, rngs=rngs), snn.CuBaLIF((3,), rngs=rngs))
    for i in (0, 2):
        net.layers[i].kernel[...] = 3.0 * net.layers[i].kernel[...]
    return net, {"input_shape": {"input": np.array(REC_IN)}, "output_shape": {"output": np.array([3])}}, \
        _spyx_forward(net)


CORPUS = {
    ("snntorch", "conv"): snntorch_conv, ("snntorch", "rec"): snntorch_rec,
    ("norse", "conv"): norse_conv, ("norse", "rec"): norse_rec,
    ("sinabs", "conv"): sinabs_conv,
    ("rockpool", "rec"): rockpool_rec,
    ("spyx", "conv"): spyx_conv, ("spyx", "rec"): spyx_rec,
}
