"""Hosts: where traffic may go. Every target, network address and S3 endpoint is checked
against the config's allow-list before a single packet is sent."""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

_PLACEHOLDER = re.compile(r"\{[A-Za-z_]+\}")


class HostNotAllowed(Exception):
    """Traffic to a host outside `allow.hosts` is refused before any connection is made."""

    def __init__(self, host: str, allow_hosts: Sequence[str]) -> None:
        super().__init__(host, tuple(allow_hosts))
        self.host = host
        self.allow_hosts = tuple(allow_hosts)

    def __str__(self) -> str:
        allowed = ", ".join(self.allow_hosts) or "(empty)"
        return f"host {self.host!r} is not in allow.hosts [{allowed}]"


# --- hosts -------------------------------------------------------------------------------------


def host_of(url: str) -> str:
    """Hostname of a URL or "host:port", also with placeholders such as "{port}" still in it."""
    text = _PLACEHOLDER.sub("0", url.strip())
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(text.strip("[]")).compressed  # bare "::1", "127.0.0.1"
    if "://" not in text:
        text = "//" + text
    host = urlsplit(text).hostname
    if not host:
        raise ValueError(f"no host in {url!r}")
    return _normalise_host(host.lower())


def check_allowed(url_or_hostport: str, allow_hosts: Sequence[str]) -> None:
    """Raise HostNotAllowed unless the host equals an entry or lies in a CIDR entry."""
    host = host_of(url_or_hostport)
    for entry in allow_hosts:
        if _host_matches(host, entry):
            return
    raise HostNotAllowed(host, allow_hosts)


def _host_matches(host: str, entry: str) -> bool:
    """Exact (case-insensitive) match; "localhost" and "127.0.0.1" stay distinct on purpose."""
    entry = entry.strip().lower()
    if "/" not in entry:
        return _normalise_host(entry) == host
    try:
        network = ipaddress.ip_network(entry, strict=False)
        return ipaddress.ip_address(host) in network
    except ValueError:
        return False


def _normalise_host(entry: str) -> str:
    bare = entry.strip("[]")
    try:
        return ipaddress.ip_address(bare).compressed
    except ValueError:
        return bare


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the usual bind-to-0 trick; racy by nature)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def foreign_host(url: str, target: str, allow_hosts: Sequence[str]) -> str | None:
    """The host of an absolute http(s) `url` when it is neither the target's host nor allowed
    (what a user class's request is refused for); None for a relative URL, which Locust
    sends to the target."""
    if not re.match(r"^https?://", url, re.IGNORECASE):
        return None
    try:
        host = host_of(url)
    except ValueError:
        return url
    if host == host_of(target):
        return None
    try:
        check_allowed(host, allow_hosts)
    except HostNotAllowed:
        return host
    return None
