"""Address ranges and address types of the NetworkPolicies (pure Python, no cdk8s).

The egress rules allow public addresses and close the ranges below, in IPv4 and IPv6 alike, so that a
dual-stack or IPv6-only cluster gets the same policy as an IPv4 one. Every CIDR here is canonical (no host
bits, compressed IPv6) and none is an IPv4-mapped IPv6 range: Kubernetes' strict IP/CIDR validation
(KEP-4858, feature gate StrictIPCIDRValidation) refuses both forms in new objects.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import AfterValidator

PRIVATE_IPV4 = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "192.0.0.0/24",
    "198.18.0.0/15",
    "240.0.0.0/4",
)
"""IPv4 ranges that are not public (IANA special-purpose registry, "globally reachable: false"): RFC 1918
private networks, carrier-grade NAT (100.64/10, where some clouds put node and metadata addresses, e.g.
Alibaba's 100.100.100.200), link-local (169.254/16: the cloud metadata address 169.254.169.254),
IETF protocol assignments (192.0.0/24), benchmarking (198.18/15) and the reserved class E (240/4, which
GKE allows for pod ranges)."""

NAT64_PREFIX = "64:ff9b::/96"
"""The well-known NAT64 prefix (RFC 6052): on an IPv6-only cluster with DNS64, an IPv4-only host a.b.c.d
is reached as 64:ff9b::a.b.c.d and translated by the NAT64 gateway. RFC 6052 says the prefix must not
stand for non-global IPv4 addresses, but not every translator refuses them, so the translations of
:data:`PRIVATE_IPV4` are closed explicitly (and the prefix itself stays open: public IPv4 hosts)."""

PRIVATE_IPV6 = (
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "64:ff9b:1::/48",
    *(
        str(ipaddress.ip_network(f"64:ff9b::{ipaddress.ip_network(v4).network_address}/{96 + ipaddress.ip_network(v4).prefixlen}"))
        for v4 in PRIVATE_IPV4
    ),
)
"""IPv6 ranges that are not public: unique local addresses (fc00::/7: private networks, and the cloud
metadata addresses fd00:ec2::254 of AWS and fd20:ce::254 of GCP), link-local (fe80::/10), the deprecated
site-local range (fec0::/10), the local-use NAT64 prefix (64:ff9b:1::/48, RFC 8215: it may translate to
any IPv4 address) and the well-known NAT64 translations of :data:`PRIVATE_IPV4`.

IPv4-mapped addresses (::ffff:0:0/96) are not listed: they never appear in a packet (RFC 4291 §2.5.5.2;
a dual-stack socket sends IPv4 to a.b.c.d instead), so the IPv4 rules already govern them, and
Kubernetes' strict validation refuses them in a NetworkPolicy."""


def _ip_address(value: str) -> str:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 or IPv6 address") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        raise ValueError(f"{value!r} is an IPv4-mapped IPv6 address; write the IPv4 address {address.ipv4_mapped}")
    if str(address) != value:
        raise ValueError(f"{value!r} is not in canonical form; write {address}")
    return value


def _cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a CIDR such as 203.0.113.0/24 or 2001:db8::/32 ({exc})") from None
    if isinstance(network, ipaddress.IPv6Network) and network.network_address.ipv4_mapped is not None:
        raise ValueError(f"{value!r} is an IPv4-mapped IPv6 range; write the IPv4 range instead")
    if str(network) != value:
        raise ValueError(f"{value!r} is not in canonical form; write {network}")
    return value


IpAddress = Annotated[str, AfterValidator(_ip_address)]
"""An IPv4 or IPv6 address in canonical form (`169.254.20.10`, `fd00::a`)."""

Cidr = Annotated[str, AfterValidator(_cidr)]
"""An IPv4 or IPv6 CIDR in canonical form, without host bits (`203.0.113.0/24`, `2001:db8::/32`)."""


def host_cidr(address: str) -> str:
    """`address` as a one-address CIDR (`/32` or `/128`)."""
    parsed = ipaddress.ip_address(address)
    return f"{parsed}/{parsed.max_prefixlen}"


def is_ipv6(cidr: str) -> bool:
    """Whether `cidr` (or an address) is IPv6."""
    return ":" in cidr
