"""Atomic file output: write to a temporary file in the target folder, then rename, so a
crash or signal never leaves a half-written artifact; existing files are kept unless
``overwrite`` (the CLI's ``--force``). Finished files and folders get the permissions the
user's umask gives a normally created one (``tempfile`` would leave 0600 / 0700)."""

from __future__ import annotations

import contextlib
import os
import shutil
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def umask_mode(folder: bool = False) -> int:
    """The mode a file (0666) or folder (0777) created now gets under the process umask."""
    return (0o777 if folder else 0o666) & ~_umask()


@contextlib.contextmanager
def atomic_file(path: str, *, overwrite: bool = True, suffix: str = ".tmp"):
    """Yield a temporary path next to ``path`` to write; on success it gets the umask's mode and
    is renamed to ``path``; on any exception or signal it is removed and ``path`` is untouched."""
    path = os.fspath(path)
    check_writable_target(path, overwrite)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".snnc-", suffix=suffix, dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, umask_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str, data: bytes, *, overwrite: bool = True) -> None:
    with atomic_file(path, overwrite=overwrite) as tmp, open(tmp, "wb") as f:
        f.write(data)


@contextlib.contextmanager
def atomic_folder(outdir: str, *, overwrite: bool, prefix: str = ".snnc-"):
    """Build a folder atomically: yields a temporary sibling folder to fill; on success it is
    renamed to ``outdir`` (an existing ``outdir`` is replaced only with ``overwrite``, and only
    after the new folder is complete); on any exception or signal the temporary folder is
    removed and ``outdir`` is left as it was."""
    outdir = os.path.abspath(outdir)
    parent = os.path.dirname(outdir)
    if os.path.exists(outdir) and not overwrite:
        raise SnncError("output folder exists", file=outdir, hint="pass --force to replace it")
    if not os.path.isdir(parent):
        raise SnncError("parent folder does not exist", file=parent)
    if not os.access(parent, os.W_OK):
        raise SnncError("parent folder is not writable", file=parent)
    tmp = tempfile.mkdtemp(prefix=prefix, dir=parent)
    try:
        yield tmp
        os.chmod(tmp, umask_mode(folder=True))
        if os.path.exists(outdir):
            old = tempfile.mkdtemp(prefix=".snnc-old-", dir=parent)
            os.rmdir(old)
            os.replace(outdir, old)
            os.replace(tmp, outdir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, outdir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
