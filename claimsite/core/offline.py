"""The build never opens a network connection: while a build runs, any attempt is stopped before a packet leaves."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import ipaddress
import sys
from collections.abc import Iterator
from typing import Any

from claimsite.core.errors import ReportError

_OFFLINE = contextvars.ContextVar("offline", default=False)
_NETWORK_EVENTS = frozenset({"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.sendto", "urllib.Request", "http.client.connect"})


def _local(host: object) -> bool:
    """Whether a name to look up is this machine (a lookup that sends nothing): none, localhost or an IP address."""
    if host is None or host in ("localhost", b"localhost", ""):
        return True
    try:
        ipaddress.ip_address(host.decode() if isinstance(host, bytes) else str(host))
    except ValueError:
        return False
    return True


def _refuse_network(event: str, args: tuple[Any, ...]) -> None:
    if event not in _NETWORK_EVENTS or not _OFFLINE.get():
        return
    if event in ("socket.getaddrinfo", "socket.gethostbyname") and args and _local(args[0]):
        return
    target = args[1] if event == "socket.connect" and len(args) > 1 else args[0] if args else "?"
    raise ReportError.at(
        "claimsite",
        f"the build tried to open a network connection ({event} {target!r}), which it never does",
        expected="only local files: data/, templates/ and docs/",
        found=f"a connection to {target!r}",
        fix="remove the remote reference (a URL where a file or inline value belongs) from the descriptor or spec",
    )


@functools.cache
def _install() -> None:
    sys.addaudithook(_refuse_network)


@contextlib.contextmanager
def offline() -> Iterator[None]:
    """Run the enclosed build with every network connection refused (in this thread)."""
    _install()
    token = _OFFLINE.set(True)
    try:
        yield
    finally:
        _OFFLINE.reset(token)


def refuse_network() -> None:
    """Refuse every network connection in this process from now on (a chart engine's worker process)."""
    _install()
    _OFFLINE.set(True)
