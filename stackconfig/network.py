"""`webstack:network`: the VPC layout."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator

from stackconfig.base import ConfigModel


class NetworkConfig(ConfigModel):
    cidr: str = "10.0.0.0/16"
    # Explicit AZ names pin the subnet layout: a region gaining AZs never reshuffles subnets.
    availability_zones: list[str] = Field(min_length=2, max_length=6)
    nat_gateways: Literal["single", "onePerAz"] = "onePerAz"
    # Subnets with no route to the internet at all, for the database and cache.
    isolated_subnets: bool = True
    flow_logs: bool = True
    # Netmask of each subnet; /20 gives 4,091 usable addresses per tier per AZ.
    subnet_mask: int = Field(default=20, ge=16, le=28)

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

    def check_fits(self) -> None:
        """The subnets (one per tier per AZ) must fit in the VPC CIDR."""
        network = ipaddress.ip_network(self.cidr)
        needed = len(self.tiers) * len(self.availability_zones)
        available = 2 ** (self.subnet_mask - network.prefixlen) if self.subnet_mask >= network.prefixlen else 0
        if needed > available:
            raise ValueError(
                f"{needed} subnets of /{self.subnet_mask} do not fit in {self.cidr} ({available} fit); "
                f"use a larger CIDR or a larger subnetMask"
            )
