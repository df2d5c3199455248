"""host_of / check_allowed / free_port: the allow-list is the guard against loading real hosts."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infratest.hosts import HostNotAllowed, check_allowed, free_port, host_of
from infratest.targets import TargetSpec

LOOPBACK = ["127.0.0.1", "localhost", "::1"]

ports = st.integers(min_value=1, max_value=65535)
ipv4s = st.ip_addresses(v=4).map(str)
ipv6s = st.ip_addresses(v=6).map(lambda ip: ip.compressed)
labels = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
hostnames = st.lists(labels, min_size=1, max_size=4).map(".".join)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://127.0.0.1:{port}", "127.0.0.1"),
        ("http://127.0.0.1:{port}/healthz", "127.0.0.1"),
        ("https://api.staging.example.com", "api.staging.example.com"),
        ("https://API.Staging.Example.com:8443/v1", "api.staging.example.com"),
        ("localhost:8080", "localhost"),
        ("127.0.0.1:80", "127.0.0.1"),
        ("[::1]:80", "::1"),
        ("http://[::1]:{port}/", "::1"),
        ("::1", "::1"),
        ("localhost", "localhost"),
        ("s3://bucket-host:9000/key", "bucket-host"),
        ("http://user:pw@example.org:1/", "example.org"),
    ],
)
def test_host_of(url: str, host: str) -> None:
    assert host_of(url) == host


@pytest.mark.parametrize("url", ["", "http://", "http://:80/"])
def test_host_of_without_host_is_an_error(url: str) -> None:
    with pytest.raises(ValueError, match="no host"):
        host_of(url)


def test_localhost_and_loopback_addresses_are_distinct_entries() -> None:
    check_allowed("http://localhost:{port}", ["localhost"])
    with pytest.raises(HostNotAllowed):
        check_allowed("http://127.0.0.1:1", ["localhost"])
    with pytest.raises(HostNotAllowed):
        check_allowed("http://localhost:1", ["127.0.0.1", "::1"])


def test_refusal_names_host_and_allow_list() -> None:
    with pytest.raises(HostNotAllowed) as info:
        check_allowed("https://api.prod.example.com/v1", LOOPBACK)
    message = str(info.value)
    assert "api.prod.example.com" in message
    assert all(entry in message for entry in LOOPBACK)


def test_cidr_entries() -> None:
    check_allowed("http://127.3.4.5:80", ["127.0.0.0/8"])
    check_allowed("[::1]:80", ["::1/128"])
    with pytest.raises(HostNotAllowed):
        check_allowed("http://10.0.0.1", ["127.0.0.0/8"])
    with pytest.raises(HostNotAllowed):
        check_allowed("http://localhost", ["127.0.0.0/8"])  # names are not resolved


def test_bracketed_and_uncompressed_ipv6_entries() -> None:
    check_allowed("http://[::1]:1", ["[::1]"])
    check_allowed("http://[0:0:0:0:0:0:0:1]:1", ["::1"])


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.create_server(("127.0.0.1", port)):
        pass


def test_spec_managed_and_ready_default() -> None:
    remote = TargetSpec("r", "https://api.example.com")
    managed = TargetSpec("m", "http://127.0.0.1:{port}", launch=["python", "-V"])  # type: ignore[arg-type]
    assert not remote.managed and managed.managed
    assert managed.launch == ("python", "-V")
    assert managed.ready_check == "tcp"


# --- properties --------------------------------------------------------------------------------


@given(ip=ipv4s, port=ports, path=st.sampled_from(["", "/", "/healthz", "/v1/predict?x=1"]))
def test_host_of_ipv4_in_every_form(ip: str, port: int, path: str) -> None:
    for text in (f"http://{ip}:{port}{path}", f"{ip}:{port}", ip, f"http://{ip}:{{port}}{path}"):
        assert host_of(text) == ip


@given(ip=ipv6s, port=ports)
def test_host_of_ipv6_in_every_form(ip: str, port: int) -> None:
    for text in (f"http://[{ip}]:{port}/x", f"[{ip}]:{port}", ip, f"http://[{ip}]:{{port}}"):
        assert host_of(text) == ip


@given(host=hostnames, port=ports, upper=st.booleans())
def test_hostnames_match_case_insensitively(host: str, port: int, upper: bool) -> None:
    url = f"https://{host.upper() if upper else host}:{port}/api"
    assert host_of(url) == host
    check_allowed(url, ["other.example", host.upper()])


@given(host=hostnames, allow=st.lists(hostnames, max_size=5))
def test_allowed_exactly_when_listed(host: str, allow: list[str]) -> None:
    url = f"http://{host}:8080"
    if host in allow:
        check_allowed(url, allow)
    else:
        with pytest.raises(HostNotAllowed):
            check_allowed(url, allow)


@given(
    ip=st.ip_addresses(), prefix=st.integers(min_value=0, max_value=128), other=st.ip_addresses()
)
def test_cidr_membership_matches_ipaddress(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
    prefix: int,
    other: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    network = ipaddress.ip_network(f"{ip}/{min(prefix, ip.max_prefixlen)}", strict=False)
    url = f"http://[{other}]:1" if other.version == 6 else f"http://{other}:1"
    if other in network:
        check_allowed(url, [str(network)])
    else:
        with pytest.raises(HostNotAllowed):
            check_allowed(url, [str(network)])
