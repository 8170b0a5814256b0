"""Which webhook URLs and addresses the gateway may call."""

from __future__ import annotations

import ipaddress

import pytest

from services.partners.domain.webhook_targets import RefusedTarget, TargetPolicy, networks


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.0.10",
        "169.254.169.254",  # cloud metadata
        "100.100.100.200",  # shared address space (a metadata service too)
        "fd00:ec2::254",  # IPv6 metadata, unique local
        "fe80::1",
        "0.0.0.0",
        "::ffff:10.0.0.1",
        "224.0.0.1",
    ],
)
def test_non_public_addresses_are_refused_by_default(address: str) -> None:
    assert not TargetPolicy().allows(ipaddress.ip_address(address))


def test_public_addresses_pass_and_an_allow_list_opens_others() -> None:
    policy = TargetPolicy(allowed_networks=networks(["127.0.0.0/8", "10.1.0.0/16"]))
    assert policy.allows(ipaddress.ip_address("93.184.215.14"))
    assert policy.allows(ipaddress.ip_address("127.0.0.1"))
    assert policy.allows(ipaddress.ip_address("10.1.2.3"))
    assert not policy.allows(ipaddress.ip_address("10.2.0.1"))


def test_urls_must_be_https_unless_http_is_allowed() -> None:
    TargetPolicy().check_url("https://hooks.example.org/kith")
    with pytest.raises(RefusedTarget, match="https"):
        TargetPolicy().check_url("http://hooks.example.org/kith")
    TargetPolicy(allow_http=True).check_url("http://hooks.example.org/kith")
    with pytest.raises(RefusedTarget, match="public"):
        TargetPolicy().check_url("https://127.0.0.1:8443/kith")


def test_every_resolved_address_must_pass() -> None:
    mixed = [ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("10.0.0.1")]
    with pytest.raises(RefusedTarget):
        TargetPolicy().check_addresses(mixed)
