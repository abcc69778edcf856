"""Shared fixtures. The real models of other projects live in ../shared/models (beside the
repository root), as in CI's checkout layout."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_MODELS = (REPO_ROOT / ".." / "shared" / "models").resolve()
SHARED_MODEL_FILES = sorted(p.name for p in SHARED_MODELS.glob("*.nir")) if SHARED_MODELS.is_dir() else []


@pytest.fixture
def shared_models() -> Path:
    if not SHARED_MODELS.is_dir():
        pytest.fail(f"shared models folder missing: {SHARED_MODELS}")
    return SHARED_MODELS


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def netx_ground_truth():
    """lava-dl 0.6.0's netx test data, read from the wheel (tests/data_sources/lavadl_wheel.py:
    downloaded once, sha256-checked, cached, never committed). Unavailable is a failure."""
    from snnc.tests.helper_modules import load

    wheel = load("data_sources/lavadl_wheel.py")
    try:
        return wheel.NetxGroundTruth(wheel.wheel())
    except wheel.WheelUnavailable as exc:
        pytest.fail(f"lava-dl 0.6.0 ground truth unavailable: {exc}")


# -- required test groups ------------------------------------------------------------------
# Tests under tests/lava are marked `lava`, under tests/frontend/torch `torch`; tests that
# compile C mark themselves `gcc`. SNNC_REQUIRE="lava,torch,gcc" (set by .ci/test per env)
# turns a skip of such a test into a failure, so CI cannot pass with those tests skipped.

_DIR_MARKERS = {("tests", "lava"): "lava", ("tests", "frontend", "torch"): "torch"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = Path(str(item.fspath)).resolve().relative_to(REPO_ROOT).parts
        for prefix, marker in _DIR_MARKERS.items():
            if parts[: len(prefix)] == prefix:
                item.add_marker(getattr(pytest.mark, marker))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    import os

    required = {s.strip() for s in os.environ.get("SNNC_REQUIRE", "").split(",") if s.strip()}
    if report.skipped and required and not hasattr(report, "wasxfail"):  # an xfail is declared, not a skip
        hit = sorted(m for m in required if item.get_closest_marker(m))
        if hit:
            report.outcome = "failed"
            report.longrepr = f"test requires {hit} in this environment (SNNC_REQUIRE) but was skipped: " \
                              f"{report.longrepr}"
