"""Atomic file output: write to a temporary file in the target folder, then rename, so a
crash or signal never leaves a half-written artifact; existing files are kept unless
``overwrite`` (the CLI's ``--force``)."""

from __future__ import annotations

import os
import tempfile

from snnc.ir.errors import SnncError


def check_writable_target(path: str, overwrite: bool) -> None:
    """Refuse an existing ``path`` without ``overwrite``; refuse a missing/unwritable folder."""
    if os.path.exists(path) and not overwrite:
        raise SnncError("output exists", file=path, hint="pass --force to overwrite it")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise SnncError("output folder does not exist", file=folder)
    if not os.access(folder, os.W_OK):
        raise SnncError("output folder is not writable", file=folder)


def atomic_write_bytes(path: str, data: bytes, *, overwrite: bool = True) -> None:
    check_writable_target(path, overwrite)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".snnc-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
