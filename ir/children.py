"""Child processes that end with snnc: gcc builds and Lava runs.

Each child runs in its own session, so it and everything it starts (Lava starts about 25
processes per run) form one process group that a terminal's Ctrl-C does not reach and that is
ended as a whole. When the caller is interrupted while it waits (Ctrl-C, or the CLI's
SIGTERM/SIGHUP handler raising), :func:`run_child` sends SIGTERM to the child's group, waits up
to :data:`GRACE_S` seconds for the group to empty, then sends SIGKILL, and re-raises. No child
outlives an interrupted snnc, and no child is left running after its work folder is gone.

    res = run_child(["gcc", "--version"])       # a subprocess.CompletedProcess (text output)
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

#: seconds a child's process group gets between SIGTERM and SIGKILL
GRACE_S = 3.0

#: the children running now (so that a signal handler can end them: :func:`terminate_all`)
_LIVE: set[subprocess.Popen] = set()


def run_child(cmd: list[str], *, cwd: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``cmd`` in its own process group; capture stdout and stderr as text. On any exception
    while waiting (KeyboardInterrupt, a signal handler's exception) the whole group is ended
    (:func:`terminate_group`) before the exception propagates."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    _LIVE.add(proc)
    try:
        out, err = proc.communicate()
    except BaseException:
        terminate_group(proc)
        raise
    finally:
        _LIVE.discard(proc)
    if _group_alive(proc.pid):          # the leader finished but left processes behind
        terminate_group(proc)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:       # a member we may not signal (cannot happen for our own children)
        return True
    return True


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def terminate_group(proc: subprocess.Popen, grace_s: float = GRACE_S) -> None:
    """SIGTERM to ``proc``'s process group (its pid: it leads its own session), SIGKILL to what is
    left after ``grace_s`` seconds; reaps ``proc``. Safe to call on a finished process."""
    pgid = proc.pid
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            proc.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        if not _group_alive(pgid):
            break
        time.sleep(0.05)          # grandchildren still shutting down (not a test wait: a bounded poll)
    if _group_alive(pgid):
        _signal_group(pgid, signal.SIGKILL)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:    # pragma: no cover - SIGKILL cannot be ignored
        pass
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def terminate_all(grace_s: float = GRACE_S) -> None:
    """End every child started by :func:`run_child` that is still running (the CLI calls this
    when it exits on a signal)."""
    for proc in list(_LIVE):
        terminate_group(proc, grace_s)
        _LIVE.discard(proc)
