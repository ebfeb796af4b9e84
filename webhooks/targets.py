"""Where a webhook may go: the URL's form, its host resolved, and every address checked.

DeerWeb refuses to send webhooks to private, loopback, link-local, multicast, reserved or
unspecified addresses (IPv4 or IPv6, IPv4 inside IPv6 included), so a member cannot make the
worker reach the services beside it (a cloud's metadata endpoint, Redis, an admin page). The
check is on the addresses the host resolves to, and the delivery connects to the checked
address (sending.py), so a DNS answer that changes between the check and the connection
cannot redirect it. Hosts in WEBHOOK_ALLOWED_HOSTS (names or addresses) are let through.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from django.conf import settings
from django.utils.translation import gettext as _

# host, port -> the addresses it resolves to, as text. Tests pass a stub.
Resolver = Callable[[str, int], list[str]]

URL_MAX_LENGTH = 2000
DEFAULT_PORTS = {"http": 80, "https": 443}
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class WebhookError(ValueError):
    """A webhook DeerWeb will not take; `message` is for the member, `field` names the
    request field it is about (Replicate's names)."""

    field = "webhook"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WebhookURLError(WebhookError):
    """The webhook's URL is malformed, or its host is (or resolves to) an address DeerWeb does not send to."""


class WebhookHostUnresolved(WebhookURLError):
    """The host did not resolve: perhaps for a moment, so a delivery tries again later."""


class WebhookEventsError(WebhookError):
    field = "webhook_events_filter"


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses the system's resolver gives for `host`, in its order, without repeats."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Target:
    """A checked webhook URL: where to connect (`address`, `port`) and what to ask for there."""

    scheme: str
    host: str  # ASCII (IDNA), lower case; an IPv6 address without brackets
    port: int
    address: str  # the checked address the connection goes to
    path: str  # path and query, as given
    username: str | None
    password: str | None

    @property
    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host."""
        return urlunsplit((self.scheme, f"{_bracketed(self.address)}:{self.port}", self.path, "", ""))

    @property
    def host_header(self) -> str:
        host = _bracketed(self.host)
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0])  # without an IPv6 zone ("fe80::1%eth0")
    except ValueError:
        return None


def address_is_public(address: str) -> bool:
    """Whether `address` is an ordinary public unicast address. IPv6 forms that carry an IPv4
    address (mapped ::ffff:a.b.c.d, 6to4, Teredo, NAT64) are judged by that IPv4 address too."""
    ip = _ip(address)
    if ip is None:
        return False
    judged: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            judged.append(ip.ipv4_mapped)
        if ip.sixtofour:
            judged.append(ip.sixtofour)
        if ip.teredo:
            judged.extend(ip.teredo)
        if ip in NAT64:
            judged.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return all(
        candidate.is_global
        and not (
            candidate.is_private
            or candidate.is_loopback
            or candidate.is_link_local
            or candidate.is_multicast
            or candidate.is_reserved
            or candidate.is_unspecified
        )
        for candidate in judged
    )


def _allowed() -> set[str]:
    """WEBHOOK_ALLOWED_HOSTS, addresses in their canonical form."""
    return {str(ip) if (ip := _ip(host)) else host for host in settings.WEBHOOK_ALLOWED_HOSTS}


def target_resolve(url: str, *, resolver: Resolver | None = None) -> Target:
    """Check `url` and resolve its host; the target to deliver to. Raises WebhookURLError."""
    if not isinstance(url, str) or not url:
        raise WebhookURLError(_("Enter the webhook's URL."))
    if len(url) > URL_MAX_LENGTH:
        raise WebhookURLError(_("The webhook's URL is too long: at most %(n)d characters.") % {"n": URL_MAX_LENGTH})
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        raise WebhookURLError(_("The webhook's URL may not contain spaces or control characters."))
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise WebhookURLError(_("The webhook's URL must start with https:// or http://."))
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise WebhookURLError(_("The webhook's URL has an invalid port.")) from None
    if not parts.hostname:
        raise WebhookURLError(_("The webhook's URL has no host."))
    try:
        host = parts.hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise WebhookURLError(_("The webhook's URL has an invalid host name.")) from None
    literal = _ip(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = (resolver or system_resolve)(host, port)
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise WebhookHostUnresolved(_("The webhook's host “%(host)s” could not be found.") % {"host": host})
    allowed = _allowed()
    usable = [
        address
        for address in addresses
        if host in allowed or address_is_public(address) or ((ip := _ip(address)) is not None and str(ip) in allowed)
    ]
    if not usable:
        raise WebhookURLError(
            _(
                "DeerWeb does not send webhooks to “%(host)s”: it is, or resolves to, a private, loopback, "
                "link-local or otherwise non-public address."
            )
            % {"host": host}
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(
        scheme=scheme,
        host=host,
        port=port,
        address=usable[0].split("%", 1)[0],
        path=path,
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def webhook_url_check(url: str, *, resolver: Resolver | None = None) -> None:
    """Raise WebhookURLError, with a message for the member, unless DeerWeb would send webhooks to `url`.

    Resolves the host: call it before a transaction that holds locks, so a refusal costs none."""
    target_resolve(url, resolver=resolver)


def url_host(url: str) -> str:
    """The host of a URL, the only part of a webhook's URL that pages show."""
    return urlsplit(url).hostname or ""
