"""`webstack:network`: the VPC layout."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator

from stackconfig.base import ConfigModel

MAX_AVAILABILITY_ZONES = 6
# awsx divides the VPC by the number of AZs unless told the per-AZ netmask: pinned to room for 8 blocks
# (>= the 6 AZs allowed), adding an AZ would otherwise shrink every AZ's block and move its subnets.
AZ_BLOCK_BITS = 3


class NetworkConfig(ConfigModel):
    cidr: str = "10.0.0.0/16"
    # Explicit AZ names pin the subnet layout: a region gaining AZs never reshuffles subnets.
    availability_zones: list[str] = Field(min_length=2, max_length=MAX_AVAILABILITY_ZONES)
    nat_gateways: Literal["single", "onePerAz"] = "onePerAz"
    # Subnets with no route to the internet at all, for the database and cache.
    isolated_subnets: bool = True
    flow_logs: bool = True
    # Netmask of each subnet; /21 gives 2,043 usable addresses per tier per AZ (each AZ's block of a
    # /16 is a /19: room for four /21 tiers).
    subnet_mask: int = Field(default=21, ge=16, le=28)

    @field_validator("cidr")
    @classmethod
    def _valid_private_cidr(cls, value: str) -> str:
        try:
            network = ipaddress.ip_network(value, strict=True)
        except ValueError as error:
            raise ValueError(f"not a valid IPv4 CIDR block ({error}); use e.g. 10.0.0.0/16") from None
        if network.version != 4 or not 16 <= network.prefixlen <= 24:
            raise ValueError("the VPC CIDR must be IPv4 with a prefix between /16 and /24 (AWS's limits)")
        if not network.is_private:
            raise ValueError("the VPC CIDR must be a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)")
        return value

    @field_validator("availability_zones")
    @classmethod
    def _unique_zone_names(cls, zones: list[str]) -> list[str]:
        if len(set(zones)) != len(zones):
            raise ValueError("availability zones must be distinct")
        for zone in zones:
            if not zone[:-1] or not zone[-1].isalpha() or not zone[-2].isdigit():
                raise ValueError(f"{zone!r} is not an availability zone name (e.g. us-east-1a)")
        return zones

    @property
    def tiers(self) -> list[str]:
        return ["public", "private"] + (["isolated"] if self.isolated_subnets else [])

    @property
    def availability_zone_cidr_mask(self) -> int:
        """Netmask of each AZ's block of the VPC: fixed by the CIDR alone, never by the number of AZs."""
        return ipaddress.ip_network(self.cidr).prefixlen + AZ_BLOCK_BITS

    def check_fits(self) -> None:
        """One subnet per tier must fit in each AZ's block (awsx's `Auto` layout, see `subnet_layout`)."""
        zone_mask = self.availability_zone_cidr_mask
        per_zone = 2 ** (self.subnet_mask - zone_mask) if self.subnet_mask >= zone_mask else 0
        if len(self.tiers) > per_zone:
            raise ValueError(
                f"{len(self.tiers)} subnets of /{self.subnet_mask} (one per tier) do not fit in each AZ's "
                f"/{zone_mask} block of {self.cidr} ({per_zone} fit); "
                f"use a larger CIDR or a larger subnetMask"
            )


def subnet_layout(cidr: str, zones: int, tiers: int, subnet_mask: int) -> list[list[str]]:
    """The subnet CIDRs awsx's `Auto` strategy allocates with our pinned AZ block: [zone][tier].

    Each AZ gets the next block of the VPC of `/prefix + AZ_BLOCK_BITS` (room for 6 AZs, so the block of
    an existing AZ never moves when one is added); within it the tiers follow in spec order, so a tier
    added at the end (isolated) never moves the others.
    """
    network = ipaddress.ip_network(cidr)
    blocks = network.subnets(new_prefix=network.prefixlen + AZ_BLOCK_BITS)
    return [[str(subnet) for _, subnet in zip(range(tiers), next(blocks).subnets(new_prefix=subnet_mask))]
            for _ in range(zones)]
