#!/usr/bin/env bash
# The main job on the shipped example model (grows into `snnc demo` as the backends land):
# set up the envs, inspect the model, simulate it, report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup
out="$(mktemp -d)"
.venv/bin/snnc inspect examples/models/quickstart_lif.nir
.venv/bin/snnc run examples/models/quickstart_lif.nir --input examples/data/quickstart_input.npy \
    --out "$out/quickstart_trace.npz" --record all
.venv/bin/python - "$out/quickstart_trace.npz" <<'PY'
import sys, numpy as np
t = np.load(sys.argv[1])
for k in ("lif1", "lif2", "output"):
    print(f"{k:8s} shape {t[k].shape}  spikes/sample {t[k].sum() / t[k].shape[0]:.1f}")
PY
echo "traces in $out"
