"""Posting webhooks with httpx, to checked addresses only, within a time and size budget."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

import httpx

from services.partners.domain.webhook_targets import Address, RefusedTarget, TargetPolicy


class ResponseTooLarge(Exception):
    """The receiver answered with more bytes than Kith reads."""


class HttpxWebhookSender:
    """One connection pool for every partner's endpoint.

    Redirects are not followed, so a signed body never lands somewhere the operator did not
    register. The host is resolved here and every address checked against the policy; the
    request then goes to the checked address (with the name in ``Host`` and in TLS's SNI,
    so certificates are still verified against the name): a name that resolves to a public
    address when checked and to a private one a moment later cannot slip through.

    Args:
        timeout_s: The whole attempt (resolving, connecting, sending, reading the answer).
        max_response_bytes: How much of an answer is read; a longer one fails the attempt.
        policy: Which schemes and addresses may be called.
    """

    def __init__(self, *, timeout_s: float, max_response_bytes: int, policy: TargetPolicy) -> None:
        self._timeout_s = timeout_s
        self._max_bytes = max_response_bytes
        self._policy = policy
        self._client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """The status code of one POST; transport errors, ``RefusedTarget``,
        ``ResponseTooLarge`` and ``TimeoutError`` propagate."""
        async with asyncio.timeout(self._timeout_s):
            self._policy.check_url(url)
            parts = urlsplit(url)
            host = parts.hostname or ""
            port = parts.port or (443 if parts.scheme == "https" else 80)
            address = await self._checked_address(host, port)
            netloc = f"[{address}]" if address.version == 6 else str(address)
            target = urlunsplit(parts._replace(netloc=f"{netloc}:{port}"))
            request = self._client.build_request(
                "POST",
                target,
                content=body,
                headers={**headers, "Host": parts.netloc.rpartition("@")[2]},
                extensions={"sni_hostname": host} if parts.scheme == "https" else {},
            )
            response = await self._client.send(request, stream=True)
            try:
                read = 0
                async for chunk in response.aiter_raw():
                    read += len(chunk)
                    if read > self._max_bytes:
                        raise ResponseTooLarge(f"the answer passed {self._max_bytes} bytes")
            finally:
                await response.aclose()
            return response.status_code

    async def _checked_address(self, host: str, port: int) -> Address:
        addresses: list[Address]
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:  # a name, not an address
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
            addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        self._policy.check_addresses(addresses)
        return addresses[0]

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


__all__ = ["HttpxWebhookSender", "RefusedTarget", "ResponseTooLarge"]
