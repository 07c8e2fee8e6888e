"""`webstack:network`: the VPC layout."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from stackconfig.base import ConfigModel, doc

MAX_AVAILABILITY_ZONES = 6
# awsx divides the VPC by the number of AZs unless told the per-AZ netmask: pinned to room for 8 blocks
# (>= the 6 AZs allowed), adding an AZ would otherwise shrink every AZ's block and move its subnets.
AZ_BLOCK_BITS = 3


def _zone_name(zone: str) -> str:
    if not zone[:-1] or not zone[-1].isalpha() or not zone[-2].isdigit():
        raise ValueError("not an availability zone name: a region and a letter, e.g. us-east-1a")
    return zone


ZoneName = Annotated[str, AfterValidator(_zone_name)]


class NetworkConfig(ConfigModel):
    """The VPC: public, private and (optionally) isolated subnets in each listed availability zone."""

    cidr: str = Field(
        default="10.0.0.0/16",
        description="The VPC's IPv4 range.",
        json_schema_extra=doc(allowed="a private IPv4 CIDR block (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) "
                                      "of /16 to /24"),
    )
    availability_zones: list[ZoneName] = Field(
        min_length=2, max_length=MAX_AVAILABILITY_ZONES,
        description="The AZs the stack uses, one subnet per tier in each. Explicit names pin the subnet layout: "
                    "a region gaining AZs never reshuffles subnets.",
        json_schema_extra=doc(allowed=f"2-{MAX_AVAILABILITY_ZONES} distinct AZ names of aws:region (e.g. us-east-1a)"),
    )
    nat_gateways: Literal["single", "onePerAz"] = Field(
        default="onePerAz",
        description="One shared NAT gateway (cheaper) or one per AZ (no cross-AZ single point of failure).",
    )
    isolated_subnets: bool = Field(
        default=True,
        description="A third tier of subnets with no route to the internet at all, for the database and cache.",
    )
    flow_logs: bool = Field(default=True, description="VPC flow logs to CloudWatch Logs (kept for logs.retentionDays).")
    subnet_mask: int = Field(
        default=21, ge=16, le=28,
        description="Netmask of each subnet (/21: 2,043 usable addresses per tier per AZ). Each AZ gets a fixed "
                    "block of the VPC, its prefix + 3 (a /19 of a /16: room for 6 AZs and four /21 tiers); fixed "
                    "at creation: changing it moves every subnet.",
        json_schema_extra=doc(allowed="16-28; one subnet per tier must fit in each AZ's block"),
    )

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

    @property
    def tiers(self) -> list[str]:
        return ["public", "private"] + (["isolated"] if self.isolated_subnets else [])

    @property
    def availability_zone_cidr_mask(self) -> int:
        """Netmask of each AZ's block of the VPC: fixed by the CIDR alone, never by the number of AZs."""
        return ipaddress.ip_network(self.cidr).prefixlen + AZ_BLOCK_BITS

    @property
    def subnets_per_zone(self) -> int:
        """How many subnets of `subnet_mask` fit in each AZ's block (awsx's `Auto` layout, see `subnet_layout`)."""
        zone_mask = self.availability_zone_cidr_mask
        return 2 ** (self.subnet_mask - zone_mask) if self.subnet_mask >= zone_mask else 0

    @property
    def smallest_fitting_subnet_mask(self) -> int:
        """The lowest subnetMask (largest subnets) with one subnet per tier in each AZ's block."""
        return self.availability_zone_cidr_mask + (len(self.tiers) - 1).bit_length()


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
