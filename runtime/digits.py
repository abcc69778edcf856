"""The 8x8 handwritten digits data set (UCI "Optical Recognition of Handwritten Digits", as
scikit-learn's ``load_digits`` ships it: 1797 images, pixels 0..16) as SNN input. A copy ships
with snnc (``examples/data/digits.npz``, uint8 pixels and labels; CC BY 4.0, Alpaydin & Kaynak,
UCI ML Repository), so the demo needs no scikit-learn; tests check it equals scikit-learn's.

``load_digits_split()`` returns a fixed train/test split (seeded, stratified); ``encode``
turns images into input sequences: 'rate' = Bernoulli spikes with probability pixel/16 per step
(seeded), 'current' = the analog pixel value / 16 repeated at every step (direct encoding, as
CLIF and LM-HT train). Arrays are (B, T, 64) float32; labels int64[B].
"""

from __future__ import annotations

import os

import numpy as np

from snnc.ir.errors import SnncError

N_FEATURES = 64
N_CLASSES = 10


BUNDLED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "data", "digits.npz")


def load_digits_data() -> tuple[np.ndarray, np.ndarray]:
    """(pixels float64[1797, 64] in 0..16, labels int64[1797]): the bundled copy, else scikit-learn's."""
    if os.path.exists(BUNDLED):
        with np.load(BUNDLED) as f:
            return f["pixels"].astype(np.float64), f["labels"].astype(np.int64)
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise SnncError("the digits data set is missing", file=BUNDLED,
                        hint="reinstall snnc, or pip install scikit-learn") from None
    data = load_digits()
    return data.data.astype(np.float64), data.target.astype(np.int64)


def load_digits_split(test_fraction: float = 0.25, seed: int = 0):
    """(x_train, y_train, x_test, y_test): pixels scaled to [0, 1] (float32, shape (N, 64))."""
    pixels, labels = load_digits_data()
    x = (pixels / 16.0).astype(np.float32)
    y = labels.astype(np.int64)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in range(N_CLASSES):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        k = int(round(len(idx) * test_fraction))
        test.extend(idx[:k])
        train.extend(idx[k:])
    train, test = np.sort(train), np.sort(test)
    return x[train], y[train], x[test], y[test]


def encode(x: np.ndarray, steps: int, mode: str = "rate", seed: int = 0) -> np.ndarray:
    """x: (B, 64) in [0, 1] -> (B, steps, 64) float32."""
    if mode == "rate":
        rng = np.random.default_rng(seed)
        return (rng.random((x.shape[0], steps, x.shape[1])) < x[:, None, :]).astype(np.float32)
    if mode == "current":
        return np.repeat(x[:, None, :], steps, axis=1).astype(np.float32)
    raise SnncError(f"unknown encoding '{mode}' (rate | current)")


def accuracy_from_outputs(out: np.ndarray, y: np.ndarray) -> float:
    """Classification by the output summed over time: out (B, T, 10)."""
    return float((out.sum(axis=1).argmax(axis=1) == y).mean())


def encoded_test_split(graph, samples: int | None = None):
    """The test split encoded as the example ``graph`` was trained, from its metadata
    (``digits_steps``, default 16; ``digits_encoding``, default 'rate'; ``digits_test_seed``,
    default 1; written by examples/train_digits.py): ``(x (B, T, 64), labels, T)``, the first
    ``samples`` digits when given."""
    meta = graph.metadata
    steps = int(meta.get("digits_steps", 16))
    mode = str(meta.get("digits_encoding", "rate"))
    _, _, x_test, y_test = load_digits_split()
    if samples:
        x_test, y_test = x_test[:samples], y_test[:samples]
    return encode(x_test, steps, mode, seed=int(meta.get("digits_test_seed", 1))), y_test, steps


def lowered_accuracy(lowered, x: np.ndarray, y: np.ndarray) -> float:
    """Test accuracy of a lowered (integer) graph on inputs x (B, T, 64): a target with synapse
    latency (loihi2) delays the Output by its ``hw['latency']`` L, so run T + L steps (inputs
    zero-padded) and read steps L .. L + T - 1, dequantized by the Output's ``metadata['scale']``."""
    from snnc.runtime.run import run_graph

    out = lowered.output_names()[0]
    steps = x.shape[1]
    lat = int(lowered.nodes[out].hw.get("latency", 0))
    trace = run_graph(lowered, x, steps=steps + lat)
    scale = np.asarray(lowered.nodes[out].metadata.get("scale", 1.0), np.float64)
    return accuracy_from_outputs(trace.outputs[out][:, lat:lat + steps] / scale, y)
