"""The data of a Lava network plan: processes, connections and how to read every IR node back.
Built by :mod:`.mapping` (with one handler per node type in :mod:`.process_specs`), written as
``network.py`` by :mod:`.codegen`. Pure data, no Lava import."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Code:
    """A constructor argument written verbatim into the generated code."""

    text: str


@dataclass
class Proc:
    """One Lava process of the network: ``cls(**args)`` (arrays go to params.npz)."""

    key: str
    cls: str
    args: dict
    node: str | None = None
    latency: int = 0
    in_port: str | None = None
    out_port: str | None = None
    note: str = ""
    merged: list = field(default_factory=list)   # further IR nodes this process realizes (merged delay parts)


@dataclass
class Conn:
    """``src.src_port[.transforms] -> dst.dst_port``; transforms: ('transpose', axes) /
    ('reshape', shape)."""

    src: str
    src_port: str
    dst: str
    dst_port: str
    transforms: list = field(default_factory=list)


@dataclass
class LavaPlan:
    """The whole network: processes, connections, and how to read every IR node back."""

    procs: dict[str, Proc] = field(default_factory=dict)
    conns: list[Conn] = field(default_factory=list)
    records: dict[str, dict] = field(default_factory=dict)
    states: dict[str, dict] = field(default_factory=dict)
    inputs: dict[str, dict] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    table: list[dict] = field(default_factory=list)

    @property
    def max_latency(self) -> int:
        return max((r.get("latency", 0) for r in self.records.values()), default=0)


@dataclass
class Link:
    """An edge between two real (process-backed) nodes, through Flatten nodes."""

    src: str
    dst: str
    delay: int
    reshapes: list  # [(in_shape, out_shape)] of the Flatten nodes passed, source side first
