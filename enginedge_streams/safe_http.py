"""The platform's safe HTTP policy: every outbound fetch a command can cause.

Used by the tool worker's ``http_request``, document ingestion by URL and
feed polling. A URL is refused (``URL_REFUSED``) unless:

* the scheme is http or https and the URL carries no credentials;
* the host matches ``ALLOWED_DOMAINS`` when that list is set (exact host or a
  subdomain of an entry);
* every address it resolves to is globally routable: private, loopback,
  link-local (cloud metadata 169.254.169.254), CGNAT, multicast, reserved,
  unspecified and IPv6 unique-local/mapped/translated forms of those are all
  refused. IPv4 written in decimal, octal, hex or short form (``2130706433``,
  ``0177.0.0.1``, ``0x7f.1``, ``127.1``) is normalised first.

The vetted addresses are the ones connected to (a pinned resolver), so a DNS
answer cannot change between the check and the connection (rebinding).
Redirects are followed by hand, each hop checked the same way, up to
``HTTP_MAX_REDIRECTS``. Bodies are capped at ``HTTP_MAX_RESPONSE_BYTES``.
``HTTP_ALLOW_LOOPBACK`` (tests only) lets 127.0.0.0/8 and ::1 through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from pydantic import Field

from enginedge_streams.errors import (
    DependencyUnavailableError,
    LimitExceededError,
    PermanentError,
    RetryableError,
)
from enginedge_streams.settings import EnvSettings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class HttpSettings(EnvSettings):
    allowed_domains: str = Field(
        "",
        description="Comma-separated hosts outbound HTTP may reach (subdomains included); "
        "empty = any public host.",
    )
    http_allow_loopback: bool = Field(
        False, description="Allow 127.0.0.0/8 and ::1 as targets (tests only; never in production)."
    )
    http_max_response_bytes: int = Field(
        5_000_000, ge=1, description="Largest response body read from an outbound request."
    )
    http_max_redirects: int = Field(5, ge=0, le=20, description="Redirects followed per request.")
    http_timeout_seconds: float = Field(15.0, gt=0, description="Timeout of one outbound request.")
    http_user_agent: str = Field(
        "EnginEdgeStreams/0.1 (+https://example.invalid/enginedge)",
        description="User-Agent of outbound requests.",
    )


class UrlRefusedError(PermanentError):
    code = "URL_REFUSED"


@dataclass(frozen=True)
class SafeHttpPolicy:
    allowed_domains: tuple[str, ...] = ()
    allow_loopback: bool = False
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    timeout_s: float = 15.0
    user_agent: str = "EnginEdgeStreams/0.1"

    @classmethod
    def from_settings(cls, s: HttpSettings) -> SafeHttpPolicy:
        domains = tuple(
            d.strip().lower().lstrip("*.").rstrip(".")
            for d in s.allowed_domains.split(",")
            if d.strip()
        )
        return cls(
            domains,
            s.http_allow_loopback,
            s.http_max_response_bytes,
            s.http_max_redirects,
            s.http_timeout_seconds,
            s.http_user_agent,
        )


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    url: str
    redirects: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def text(self) -> str:
        charset = "utf-8"
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


def parse_ip(host: str) -> IPAddress | None:
    """An IP literal in any spelling (incl. legacy IPv4 forms), or None for a name."""
    candidate = host.strip("[]")
    try:
        return ipaddress.ip_address(candidate.split("%", 1)[0])
    except ValueError:
        pass
    try:  # inet_aton accepts 2130706433, 0x7f000001, 0177.0.0.1, 127.1 ...
        if candidate and all(c in "0123456789abcdefxABCDEFX." for c in candidate):
            return ipaddress.IPv4Address(socket.inet_aton(candidate))
    except OSError:
        return None
    return None


def address_allowed(ip: IPAddress, *, allow_loopback: bool) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_allowed(embedded, allow_loopback=allow_loopback)
    if ip.is_loopback:
        return allow_loopback
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return False
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def host_allowed(host: str, domains: tuple[str, ...]) -> bool:
    if not domains:
        return True
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


def check_url(url: str, policy: SafeHttpPolicy) -> tuple[str, str]:
    """Static checks (scheme, credentials, allow-list, IP literals). Returns (scheme, host)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefusedError(f"malformed URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UrlRefusedError(f"scheme {scheme or '(none)'!r} is not allowed (http/https only)")
    if parts.username is not None or parts.password is not None:
        raise UrlRefusedError("URLs with credentials are not allowed")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UrlRefusedError("URL has no host")
    if port is not None and not 0 < port < 65536:
        raise UrlRefusedError(f"invalid port {port}")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise UrlRefusedError(f"invalid host name {host!r}") from None
    if not host_allowed(host, policy.allowed_domains):
        raise UrlRefusedError(f"host {host!r} is not in ALLOWED_DOMAINS")
    ip = parse_ip(host)
    if ip is not None and not address_allowed(ip, allow_loopback=policy.allow_loopback):
        raise UrlRefusedError(f"address {ip} is not a public address")
    return scheme, host


class _VettingResolver(AbstractResolver):
    """Resolves names and refuses any that map to a non-public address."""

    def __init__(self, policy: SafeHttpPolicy) -> None:
        self.policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise UrlRefusedError(f"cannot resolve {host!r}: {exc.strerror}") from None
        results: list[ResolveResult] = []
        for fam, _, proto, _, sockaddr in infos:
            ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if not address_allowed(ip, allow_loopback=self.policy.allow_loopback):
                raise UrlRefusedError(f"{host!r} resolves to non-public address {ip}")
            results.append(
                ResolveResult(
                    hostname=host,
                    host=str(ip),
                    port=int(sockaddr[1]),
                    family=fam,
                    proto=proto,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        if not results:
            raise UrlRefusedError(f"{host!r} has no addresses")
        return results

    async def close(self) -> None:
        return None


class SafeHttpClient:
    def __init__(self, policy: SafeHttpPolicy) -> None:
        self.policy = policy
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=_VettingResolver(self.policy), use_dns_cache=False, limit=50
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.policy.timeout_s),
                headers={"User-Agent": self.policy.user_agent},
                trust_env=False,  # never route through an environment proxy
                auto_decompress=True,
            )

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        max_bytes: int | None = None,
    ) -> HttpResponse:
        """Fetch ``url`` under the policy; refuses (URL_REFUSED) anything unsafe."""
        if self._session is None:
            await self.start()
        assert self._session is not None
        limit = min(max_bytes or self.policy.max_bytes, self.policy.max_bytes)
        method = method.upper()
        redirects: list[str] = []
        current = url
        for _ in range(self.policy.max_redirects + 1):
            check_url(current, self.policy)
            try:
                async with self._session.request(
                    method,
                    current,
                    headers=headers,
                    data=body,
                    allow_redirects=False,
                ) as resp:
                    hop = redirect_hop(current, resp.status, resp.headers, method, body)
                    if hop is not None:
                        redirects.append(current)
                        current, method, body = hop
                        continue
                    data = await _read_capped(resp, limit)
                    return HttpResponse(
                        resp.status,
                        {k.lower(): v for k, v in resp.headers.items()},
                        data,
                        str(resp.url),
                        redirects,
                    )
            except UrlRefusedError:
                raise
            except aiohttp.ClientConnectorError as exc:
                cause = exc.__cause__ or exc.__context__
                if isinstance(cause, UrlRefusedError):
                    raise cause from None
                raise DependencyUnavailableError(f"cannot connect to {current}: {exc}") from None
            except TimeoutError:
                raise timed_out(method, current, self.policy.timeout_s) from None
            except aiohttp.ClientError as exc:
                raise RetryableError(
                    f"{method} {current} failed: {exc}", code="HTTP_ERROR"
                ) from None
        raise UrlRefusedError(f"more than {self.policy.max_redirects} redirects")


REDIRECT_STATUSES = (301, 302, 303, 307, 308)


def redirect_hop(
    url: str, status: int, headers: Mapping[str, str], method: str, body: bytes | None
) -> tuple[str, str, bytes | None] | None:
    """Where a redirect answer sends the request next (URL, method, body), else None."""
    location = next((v for k, v in headers.items() if k.lower() == "location"), None)
    if status not in REDIRECT_STATUSES or location is None:
        return None
    if status == 303 or (status in (301, 302) and method == "POST"):
        method, body = "GET", None
    return urljoin(url, location), method, body


def timed_out(method: str, url: str, seconds: float) -> RetryableError:
    return RetryableError(f"{method} {url} timed out after {seconds}s", code="HTTP_TIMEOUT")


def too_large(limit: int, declared: int | None = None) -> LimitExceededError:
    size = f"response of {declared} bytes" if declared is not None else "response"
    return LimitExceededError(
        f"{size} exceeds HTTP_MAX_RESPONSE_BYTES={limit}", code="RESPONSE_TOO_LARGE"
    )


async def _read_capped(resp: Any, limit: int) -> bytes:
    declared = resp.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit, int(declared))
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)
