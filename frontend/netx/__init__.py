"""The lava-dl netx ``.net`` reader behind :func:`snnc.frontend.netx_import.load_net`, one job per
module:

* :mod:`.reader`: the HDF5 layout (``/layer/<i>`` groups, typed field access whose errors name
  file, layer and field);
* :mod:`.neurons`: netx's neuron groups (CUBA/LOIHI -> Lava LIF, RF) decoded and checked;
* :mod:`.layers`: one handler per netx layer type (``input``, ``flatten``, ``dense`` /
  ``dense_rec`` with the complex variant, ``conv``), registered by type name;
* :mod:`.builder`: the graph under construction (the chain of layers, the input, warnings).

The numbers (weight, bias, threshold, decay formats) come from :mod:`snnc.ir.netx_rules`, shared
with the ``.net`` writer and the Lava planner.
"""
