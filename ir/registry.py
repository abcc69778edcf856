"""One kind of registry for everything keyed by node type (or netx layer-type name): simulator
kernels, C generators, RTL generators, Lava process specs, lowerings, chip-native mappers, value
bounds, netx layer handlers. A handler is registered with a decorator, ``@REG.register(A, B)``,
and found with :meth:`Registry.find` (the node's own type first, then its nearest registered base
class)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any


class Registry(dict):
    """``key -> handler``; ``what`` names the registry in messages."""

    def __init__(self, what: str):
        super().__init__()
        self.what = what

    def register(self, *keys: Hashable) -> Callable[[Any], Any]:
        """Decorator: register the decorated function or class for every key."""
        def deco(handler):
            for key in keys:
                self[key] = handler
            return handler
        return deco

    def find(self, key: Any) -> Any | None:
        """The handler of ``key`` (a type: its own entry, else the nearest registered base class
        in method resolution order; other keys: exact match), None if there is none."""
        if isinstance(key, type):
            for base in key.__mro__:
                if base in self:
                    return self[base]
            return None
        return self.get(key)
