"""Where a webhook may be sent: https, and only to public addresses unless an operator allows.

A webhook URL is chosen by whoever registers a partner, and the gateway then makes requests
to it from inside Kith's network. Without these rules a URL naming ``127.0.0.1``, a private
address or the cloud metadata service (``169.254.169.254``) would let that request reach
what only Kith's own processes should.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class RefusedTarget(ValueError):
    """A webhook URL, or an address its host resolves to, that Kith will not call."""


def networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """Parse CIDRs (``127.0.0.0/8``, ``::1/128``); ``ValueError`` names the bad one."""
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs if cidr)


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    """What an operator allows beyond public https endpoints.

    Attributes:
        allow_http: Plain http too (development only: the body and signature travel in clear).
        allowed_networks: Addresses in these networks are called even when they are loopback,
            private, link-local or otherwise not public.
    """

    allow_http: bool = False
    allowed_networks: tuple[Network, ...] = ()

    def check_url(self, url: str) -> None:
        """Refuse a URL whose scheme is not allowed, or whose host is a refused address.

        A host name is checked when the request is made (``check_addresses``): what it
        resolves to may change after registration.
        """
        parts = urlsplit(url)
        allowed = ("https", "http") if self.allow_http else ("https",)
        if parts.scheme not in allowed:
            raise RefusedTarget(f"must be an {' or '.join(allowed)} URL")
        if not parts.hostname:
            raise RefusedTarget("must name a host")
        try:
            literal = ipaddress.ip_address(parts.hostname)
        except ValueError:
            return
        self.check_addresses([literal])

    def check_addresses(self, addresses: Sequence[Address]) -> None:
        """Refuse when any address the host resolves to is not public and not allowed.

        Every address is checked, not only the first: a name resolving to one public and one
        private address could otherwise be made to reach the private one.
        """
        if not addresses:
            raise RefusedTarget("the host resolves to no address")
        for address in addresses:
            if not self.allows(address):
                raise RefusedTarget(
                    f"{address} is not a public address (loopback, private, link-local or"
                    " metadata ranges are refused unless an operator allows them)"
                )

    def allows(self, address: Address) -> bool:
        """Whether Kith may call ``address``."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if any(address in network for network in self.allowed_networks):
            return True
        # is_global is false for loopback, private, link-local (169.254.0.0/16, the metadata
        # service), shared (100.64.0.0/10), reserved, multicast and unspecified addresses.
        return address.is_global and not address.is_multicast
