"""Reference digests of the lowering: compile every example model and every shared model for
every target and record sha256 digests of what comes out, so a refactoring of the passes can
prove it changed no byte.

Also random float graphs (seeds, some with analog inputs) and the LM-HT graphs of
the reparameterisation tests. Per (graph, config): the lowered graph written with :func:`snnc.ir.nir_io.write_nir`, the
report JSON (sorted keys), and for ``loihi2`` the Lava folder written by
:func:`snnc.backends.lava.emit.emit_lava` (which uses the Lava planner's value bounds); a
refused compilation records the error's type and message instead.

    $PY -m snnc.tests.passes.lowering_reference record  OUT.json
    $PY -m snnc.tests.passes.lowering_reference compare OUT.json   # exit 1 on any difference

(or run the file with ``$PY tests/passes/lowering_reference.py``). Not a test by itself: it
compiles ~40 graphs, too slow for the suite.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED_MODELS = Path("/work/shared/models")
TARGETS = ("sim", "fpga", "loihi2")
#: extra configurations: (model file name, target, overrides)
BINARY = {"lmht": {"mapping": "binary_time_multiplexed"}}
EXTRA = [("digits_lmht.nir", t, BINARY) for t in ("sim", "fpga")]
#: random float graphs (tests/robustness/random_float_graphs.py), by seed
RANDOM_SEEDS = range(80)
#: fpga overrides that exercise the other profile options
FPGA_VARIANTS = [{"weights": {"granularity": "tensor", "bits": 6}, "state": {"bits": 16, "overflow": "wrap"}}]


def _graph_sources() -> list[tuple[str, object]]:
    """(key, zero-argument graph builder) for every graph the reference compiles."""
    import snnc
    from snnc.tests.helper_modules import load

    out = [(p.name, (lambda p=p: snnc.load(str(p)))) for p in _models()]
    rf = load("robustness/random_float_graphs.py")
    out += [(f"random_float_{s}", (lambda s=s: rf.random_float_graph(s))) for s in RANDOM_SEEDS]

    def analog(s):
        g = rf.random_float_graph(s)
        for name in g.input_names():
            g.nodes[name].metadata.update(analog=True, max_abs=2.5)
        return g

    out += [(f"random_float_analog_{s}", (lambda s=s: analog(s))) for s in RANDOM_SEEDS[:20]]
    lm = load("passes/test_reparam_lmht.py")
    out += [("float_lmht_2_2", lambda: lm._float_lmht()), ("float_lmht_3_3", lambda: lm._float_lmht((3, 3), seed=1))]
    rf_readout = load("passes/test_lower_rf_readout.py")
    out += [(f"s5rf_readout_{d}", (lambda d=d: rf_readout._exported(d))) for d in ("zoh", "bilinear")]
    return out


def _models() -> list[Path]:
    found = sorted((REPO / "examples" / "models").glob("*.nir"))
    if SHARED_MODELS.is_dir():
        found += sorted(SHARED_MODELS.glob("*.nir"))
    return found


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _folder_digests(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in sorted(names):
            p = Path(dirpath) / n
            out[str(p.relative_to(root))] = _sha(p.read_bytes())
    return dict(sorted(out.items()))


def _one(build, target: str, overrides: dict, tmp: Path) -> dict:
    from snnc.ir.errors import SnncError
    from snnc.ir.nir_io import write_nir
    from snnc.passes.targets import make_config
    from snnc.runtime.compile import compile_graph

    try:
        lowered, report = compile_graph(build(), make_config(target, overrides))
    except SnncError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    nir_a, nir_b = tmp / "a.nir", tmp / "b.nir"
    write_nir(nir_a, lowered)
    write_nir(nir_b, lowered)
    data = nir_a.read_bytes()
    entry = {"nir": _sha(data), "nir_stable": data == nir_b.read_bytes(),
             "report": _sha(json.dumps(report, sort_keys=True).encode())}
    if target == "loihi2":
        from snnc.backends.lava.emit import emit_lava

        lava_dir = tmp / "lava"
        try:
            emit_lava(lowered, str(lava_dir))
            entry["lava"] = _folder_digests(lava_dir)
        except SnncError as exc:
            entry["lava"] = {"error": f"{type(exc).__name__}: {exc}"}
    return entry


def record() -> dict:
    sources = _graph_sources()
    configs = [(k, b, t, {}) for k, b in sources for t in TARGETS]
    configs += [(k, b, "fpga", o) for k, b in sources for o in FPGA_VARIANTS]
    configs += [(k, b, t, o) for name, t, o in EXTRA for k, b in sources if k == name]
    configs += [(k, b, t, BINARY) for k, b in sources if k.startswith("float_lmht") for t in ("sim", "fpga")]
    out = {}
    for name, build, target, overrides in configs:
        key = f"{name}|{target}|{json.dumps(overrides, sort_keys=True)}"
        with tempfile.TemporaryDirectory() as tmp:
            out[key] = _one(build, target, overrides, Path(tmp))
    return out


def compare(reference: dict, now: dict) -> list[str]:
    """The keys whose digests differ (or that one side lacks)."""
    return [k for k in sorted(set(reference) | set(now)) if reference.get(k) != now.get(k)]


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("record", "compare"):
        print(__doc__)
        return 2
    now = record()
    unstable = [k for k, v in now.items() if v.get("nir_stable") is False]
    if unstable:
        print("write_nir is not byte-stable for:", unstable)
    if argv[0] == "record":
        Path(argv[1]).write_text(json.dumps(now, indent=1, sort_keys=True))
        print(f"recorded {len(now)} configurations ({sum('error' in v for v in now.values())} refused) "
              f"into {argv[1]}")
        return 0
    diff = compare(json.loads(Path(argv[1]).read_text()), now)
    for k in diff:
        print("DIFFERS:", k)
    print(f"compared {len(now)} configurations: {len(now) - len(diff)} identical, {len(diff)} different")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
