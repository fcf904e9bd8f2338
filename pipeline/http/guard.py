"""SSRF guard: which addresses Dyad may connect to, enforced where the socket is opened.

Checking a URL's host string is not enough (``127.1``, ``2130706433``, DNS names that resolve to
private space, rebinding between check and connect). ``GuardedBackend`` is an httpcore network
backend: it resolves the host itself, drops every forbidden address and connects only to an
allowed one, so the check applies to the address actually connected to, on every redirect hop.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from typing import Any

import httpcore
from httpcore._backends.sync import SyncStream

from pipeline.errors import BlockedAddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# Special-purpose blocks Python's ipaddress reports as global (IANA special-purpose registries,
# iana.org/assignments/iana-ipv4-special-registry and iana-ipv6-special-registry): the IETF
# protocol assignments 192.0.0.0/24 (ipaddress excepts 192.0.0.9/32 and 192.0.0.10/32 as
# "globally reachable"; neither is a news site) and the deprecated IPv6 site-local fec0::/10
# (RFC 3879), which some networks still route internally.
_SPECIAL = (ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("fec0::/10"))
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why Dyad must not connect to ``ip`` by default, or None when it is a public address.

    Refused: loopback, private, link-local, shared/CGNAT, multicast, unspecified, reserved, and
    IPv6 forms that embed such an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo).
    """
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: ipaddress.IPv4Address | None = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and any(ip in net for net in _NAT64):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and ip.teredo:
            embedded = ip.teredo[1]
        if embedded is not None:
            inner = forbidden_reason(embedded)
            return f"embeds {embedded} ({inner})" if inner else None
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "shared address space (CGNAT)"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (any(ip.version == net.version and ip in net for net in _SPECIAL), "special-purpose"),
        (not ip.is_global, "not globally routable"),
    )
    for hit, reason in checks:
        if hit:
            return reason
    return None


def resolve_allowed(
    host: str, port: int, *, allow_private: bool, allowlist: Sequence[IPNetwork] = ()
) -> list[tuple[socket.AddressFamily, Any]]:
    """Resolve ``host`` and keep the addresses we may connect to.

    Private addresses pass when ``allow_private`` is set or when they fall in ``allowlist``.
    Raises ``BlockedAddress`` when every address is forbidden, ``OSError`` when it does not resolve.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    allowed: list[tuple[socket.AddressFamily, Any]] = []
    refused: list[str] = []
    for family, _type, _proto, _name, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        listed = any(ip.version == net.version and ip in net for net in allowlist)
        reason = None if allow_private or listed else forbidden_reason(ip)
        if reason:
            refused.append(f"{ip} ({reason})")
        else:
            allowed.append((family, sockaddr))
    if not allowed:
        raise BlockedAddress(
            f"refused to connect: {host} resolves only to {', '.join(refused)}", item=host
        )
    return allowed


class GuardedBackend(httpcore.SyncBackend):
    """httpcore backend that connects only to addresses ``forbidden_reason`` accepts."""

    def __init__(self, *, allow_private: bool, allowlist: Iterable[str] = ()) -> None:
        self.allow_private = allow_private
        self.allowlist = tuple(ipaddress.ip_network(n, strict=False) for n in allowlist)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            candidates = resolve_allowed(
                host, port, allow_private=self.allow_private, allowlist=self.allowlist
            )
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        last_error: OSError | None = None
        for family, sockaddr in candidates:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                for option in socket_options or ():
                    sock.setsockopt(*option)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.settimeout(timeout)
                sock.connect(sockaddr)
            except TimeoutError as exc:
                sock.close()
                raise httpcore.ConnectTimeout(f"connect to {host}:{port} timed out") from exc
            except OSError as exc:
                sock.close()
                last_error = exc
                continue
            return SyncStream(sock)
        raise httpcore.ConnectError(f"cannot connect to {host}:{port}: {last_error}")
