"""Where a webhook may go: https only (http by setting), never to this machine or a private network (SSRF).

A URL is checked when it is registered and again at every attempt, because what a name resolves to
can change (DNS rebinding). At delivery the name is resolved once, every address it resolves to is
checked, and the connection goes to the address that was checked (webhooks.transport), so a second
resolution cannot swap in another. Refused: loopback, private, link-local (cloud metadata at
169.254.169.254), multicast, unspecified, reserved and shared (100.64/10) addresses, IPv4 and IPv6
alike, including IPv4 addresses carried inside IPv6 ones (::ffff:127.0.0.1, 6to4, NAT64) and the odd
numeric spellings the resolver accepts (2130706433, 0x7f.1, 127.1), which arrive as the address they
mean. WEBHOOK_ALLOWED_HOSTS names exceptions: host names (allowed whatever they resolve to, not
resolved at registration), addresses and networks (the tests and stories use 127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from webhooks.models import MAX_URL_LENGTH

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeURL(ValueError):
    """A URL the service will not send to; the message says why, for the person who registered it."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # lower case, without brackets or a trailing dot; IDNA-encoded
    port: int
    path: str  # path and query, as sent in the request line


def parse(url: str) -> Target:
    """The parts of a URL the service may send to (https, or http with WEBHOOK_ALLOW_HTTP); UnsafeURL otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"Use at most {MAX_URL_LENGTH} characters.")
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        raise UnsafeURL("A URL cannot hold spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL("This is not a valid URL.") from exc
    schemes = {"https", "http"} if settings.WEBHOOK_ALLOW_HTTP else {"https"}
    if parts.scheme not in schemes:
        raise UnsafeURL("Only https URLs are accepted." if parts.scheme == "http" else "Use an https URL.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("A URL with a user name or password is not accepted; the signature authenticates requests.")
    if parts.fragment:
        raise UnsafeURL("A URL with a fragment (#...) is not accepted; it would never be sent.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURL("The URL has no host.")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as exc:
        raise UnsafeURL("The host name is not valid.") from exc
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    if port == 0:
        raise UnsafeURL("Port 0 cannot be connected to.")
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    return Target(scheme=parts.scheme, host=host, port=port, path=path)


def _embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries, which is where a packet to it may end up."""
    if ip.version != 6:
        return []
    found = [ip.sixtofour, *(ip.teredo or ())]
    return [inner for inner in found if inner is not None]


def refusal(ip: IPAddress) -> str | None:
    """Why the service will not connect to `ip` (a word or two), or None for a public address."""
    if ip.version == 6 and ip.ipv4_mapped is not None:
        # ::ffff:a.b.c.d is a.b.c.d to a dual-stack socket.
        return refusal(ip.ipv4_mapped)
    if ip in NAT64:
        # A NAT64 gateway passes it on to the IPv4 address inside (64:ff9b::/96 itself counts as reserved).
        inner = refusal(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        return f"{inner} (inside {ip})" if inner else None
    for embedded in _embedded_ipv4(ip):
        reason = refusal(embedded)
        if reason:
            return f"{reason} (inside {ip})"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (where cloud metadata services answer)"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved or not ip.is_global:
        return "an address that is not publicly routable"
    return None


def _allow_list() -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    names, networks = set(), []
    for entry in settings.WEBHOOK_ALLOWED_HOSTS:
        entry = entry.strip().strip("[]").rstrip(".").lower()
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry)
    return names, networks


def host_allowed(host: str) -> bool:
    """True when WEBHOOK_ALLOWED_HOSTS names this host (whatever it resolves to)."""
    return host.lower() in _allow_list()[0]


def address_allowed(ip: IPAddress) -> bool:
    """True when WEBHOOK_ALLOWED_HOSTS names this address or a network holding it."""
    return any(ip.version == network.version and ip in network for network in _allow_list()[1])


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order (a literal address is itself); UnsafeURL if none."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"The host {host} cannot be resolved.") from exc
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0])
        if ip not in found:
            found.append(ip)
    if not found:
        raise UnsafeURL(f"The host {host} cannot be resolved.")
    return found


def checked_address(target: Target) -> IPAddress:
    """Resolve the target's host once and return the address to connect to; UnsafeURL if any address is refused.

    Every address the name resolves to must be acceptable: a resolver answering one public and one
    private address would otherwise choose for the attacker.
    """
    addresses = resolve(target.host, target.port)
    if host_allowed(target.host):
        return addresses[0]
    for ip in addresses:
        reason = refusal(ip)
        if reason and not address_allowed(ip):
            raise UnsafeURL(f"{target.host} resolves to {ip}, {reason}; webhooks go only to public addresses.")
    return addresses[0]


def check_registration(url: str) -> Target:
    """The checks made when a URL is registered or changed; UnsafeURL (with its reason) when refused."""
    target = parse(url)
    if not host_allowed(target.host):
        checked_address(target)
    return target
