"""Lava backend: emit a loihi2-lowered integer graph as a lava-nc process network (plus a lava-dl
netx ``.net`` file where netx can express it) and run it bit-exactly against the simulator.

* :mod:`.mapping` (planner), :mod:`.process_specs` (one handler per node type), :mod:`.plan`:
  which Lava process realizes each node, edges and delays as connections;
* :mod:`.resources`: the Loihi 2 core estimate;
* :mod:`.codegen` / :mod:`.emit`: the self-contained ``network.py`` + ``params.npz`` folder;
* :mod:`.netx`: the ``.net`` writer; :mod:`.run`: ``run_lava`` (subprocess into the Lava env);
* :mod:`.processes`, :mod:`.fixed_point`, :mod:`.runner`: templates copied into ``network.py``
  (the custom fixed-point processes, their integer arithmetic, recording).

See README.md in this folder. Importing this package does not import lava-nc.
"""
