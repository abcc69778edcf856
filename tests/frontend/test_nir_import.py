"""Importing the real NIR files of other projects (../shared/models)."""

from __future__ import annotations

import numpy as np
import pytest

import snnc
from snnc.ir.shapes import infer_shapes

EXPECTED_OUTPUT_SHAPES = {
    "braille_noDelay_bias_zero.nir": (7,),
    "braille_noDelay_noBias_subtract.nir": (7,),
    "cnn_sinabs.nir": (10,),
    "lif_norse.nir": (1,),
    "lif_rockpool.nir": (1,),
}


@pytest.mark.parametrize("fname", sorted(EXPECTED_OUTPUT_SHAPES))
def test_shared_model_loads_with_shapes(shared_models, fname):
    g = snnc.load(shared_models / fname)
    shapes = infer_shapes(g)
    assert shapes[g.output_names()[0]] == EXPECTED_OUTPUT_SHAPES[fname]
    assert g.metadata["dt"] == 1e-4 and g.metadata["dt_source"] == "default"


def test_every_shared_model_is_covered(shared_models):
    assert sorted(p.name for p in shared_models.glob("*.nir")) == sorted(EXPECTED_OUTPUT_SHAPES)


def test_rockpool_output_shape_quirk_is_accepted_and_recorded(shared_models):
    g = snnc.load(shared_models / "lif_rockpool.nir")
    out = g.nodes["output"]
    assert out.shape == (1,)
    assert out.metadata["declared_shape"] == [1, 1, 1]


def test_recurrent_edge_gets_one_step_delay(shared_models):
    g = snnc.load(shared_models / "braille_noDelay_bias_zero.nir")
    delayed = [(e.src, e.dst) for e in g.edges if e.delay]
    assert delayed == [("lif1.w_rec", "lif1.lif")]
    assert g.metadata["time_convention"] == "nirtorch"


def test_import_options_are_recorded(shared_models):
    g = snnc.load(shared_models / "cnn_sinabs.nir", dt=1e-3, reset="subtract", integrator="euler")
    assert g.metadata["dt"] == 1e-3 and g.metadata["dt_source"] == "option"
    assert g.metadata["reset_mode"] == "subtract" and g.metadata["integrator"] == "euler"


def test_cnn_sinabs_shapes(shared_models):
    shapes = infer_shapes(snnc.load(shared_models / "cnn_sinabs.nir"))
    assert shapes["0"] == (16, 16, 16)
    assert shapes["4"] == (16, 8, 8)
    assert shapes["8"] == (128,)
    assert np.prod(shapes["input"]) == 2 * 34 * 34
