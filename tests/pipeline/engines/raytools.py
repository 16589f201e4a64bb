"""One real Ray for a test module, started on this machine inside a network namespace of its own.

A plain `ray.init()` probes an outside address to find its own and binds services to every
interface; in a fresh network namespace (loopback only) it can reach and expose nothing else. The
test process enters the namespace just long enough to start Ray (Ray's processes and its client
threads stay there) and comes back, so the other tests see the machine's network as before.
"""

from __future__ import annotations

import ctypes
import logging
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CLONE_NEWNET = 0x40000000
# No usage statistics. And a token of the run's own: Ray 2.60 turns token authentication on for a
# local Ray when a token exists, and would otherwise write a new one into ~/.ray/auth_token.
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0"}


def start_ray_isolated(num_cpus: int = 2) -> Iterator[Any]:
    """Start Ray in a new network namespace, yield the `ray` module, shut Ray down after.

    Skips (with the reason) where Ray is not installed or a namespace cannot be made.
    """
    try:
        import ray
    except ImportError:
        pytest.skip("Ray is not installed (pip install 'stylize[ray]')")
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("a network namespace for Ray needs root and the `ip` tool")
    libc = ctypes.CDLL(None, use_errno=True)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    saved = {key: os.environ.get(key) for key in (*RAY_ENV, "RAY_AUTH_TOKEN", "RAY_AUTH_MODE")}
    os.environ.update(RAY_ENV, RAY_AUTH_TOKEN=secrets.token_hex(16))
    try:
        if libc.unshare(CLONE_NEWNET) != 0:
            pytest.skip(f"cannot make a network namespace: {os.strerror(ctypes.get_errno())}")
        try:
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True, capture_output=True)
            ray.init(include_dashboard=False, num_cpus=num_cpus, logging_level=logging.ERROR, log_to_driver=False)
        finally:
            if libc.setns(home, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "cannot return to the test's own network namespace")
        yield ray
    finally:
        os.close(home)
        if ray.is_initialized():
            ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def listening_addresses(pid: int) -> list[str]:
    """The local addresses of the TCP sockets listening in `pid`'s network namespace ("127.0.0.1", "::1", ...)."""
    import ipaddress

    found = []
    for name in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{name}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A":  # LISTEN
                continue
            raw = bytes.fromhex(fields[1].split(":")[0])
            # /proc prints each 32-bit word in host (little-endian) order.
            packed = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            address = ipaddress.ip_address(packed)
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
                address = address.ipv4_mapped
            found.append(str(address))
    return found


def worker_pids(name: str = "StyleWorker") -> list[int]:
    """Processes of Ray actors of class `name` (Ray titles them `ray::NAME`)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                continue
            if title.startswith(f"ray::{name}".encode()):
                pids.append(int(entry.name))
    return pids


def reaped(pid: int, seconds: float = 10.0) -> bool:
    """Whether process `pid` is gone from /proc within `seconds`: a killed process stays there, a
    zombie, until its parent (Ray's raylet, busy on a loaded machine) collects it."""
    import time

    deadline = time.monotonic() + seconds
    while Path(f"/proc/{pid}").exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
