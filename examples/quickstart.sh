#!/usr/bin/env bash
# The main job: set up both envs (first run only), then `snnc demo` on the shipped example models:
# compile each for sim, fpga and loihi2, run the digits test set on the simulator, the generated C
# and Lava, check bit-exactness, print one table; plots and summary.json go to demo_out/.
# Extra arguments go to `snnc demo` (e.g. --force, --samples 100, --no-lava).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup
exec .venv/bin/snnc demo -o demo_out "$@"
