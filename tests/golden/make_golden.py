"""Regenerate the golden vector files of this folder (only when numeric semantics change on
purpose; say so in the commit message):

    .venv/bin/python tests/golden/make_golden.py
"""

from __future__ import annotations

from pathlib import Path

from snnc.runtime.golden import record

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
SHARED = ROOT.parent / "shared" / "models"

# (golden file, model path, target, samples, steps)
GOLDEN = [
    ("quickstart_lif.sim.npz", ROOT / "examples/models/quickstart_lif.nir", "sim", 4, 32),
    ("quickstart_lif.fpga.npz", ROOT / "examples/models/quickstart_lif.nir", "fpga", 4, 32),
    ("quickstart_lif.loihi2.npz", ROOT / "examples/models/quickstart_lif.nir", "loihi2", 4, 32),
    ("braille_noDelay_bias_zero.loihi2.npz", SHARED / "braille_noDelay_bias_zero.nir", "loihi2", 3, 32),
    ("braille_noDelay_noBias_subtract.fpga.npz", SHARED / "braille_noDelay_noBias_subtract.nir", "fpga", 3, 32),
    ("cnn_sinabs.fpga.npz", SHARED / "cnn_sinabs.nir", "fpga", 2, 12),
    ("lif_norse.loihi2.npz", SHARED / "lif_norse.nir", "loihi2", 3, 32),
    ("lif_rockpool.sim.npz", SHARED / "lif_rockpool.nir", "sim", 3, 32),
] + [(f"digits_{k}.fpga.npz", ROOT / f"examples/models/digits_{k}.nir", "fpga", 3, 16)
     for k in ("lif", "cubalif", "lifb", "clif", "rf", "lmht", "lnm")] + [
    (f"digits_{k}.loihi2.npz", ROOT / f"examples/models/digits_{k}.nir", "loihi2", 3, 16)
    for k in ("lif", "lifb", "rf", "lmht")]


def main(only: list[str] | None = None) -> None:
    for fname, model, target, n, steps in GOLDEN:
        if only and fname not in only:
            continue
        record(str(model), str(HERE / fname), target=target, n=n, steps=steps, seed=0, overwrite=True)
        print("wrote", fname)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:] or None)
