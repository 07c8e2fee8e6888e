"""`webstack:network`: the VPC layout."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, Field, field_validator

from stackconfig.base import ConfigModel, doc

MAX_AVAILABILITY_ZONES = 6
# awsx divides the VPC by the number of AZs unless told the per-AZ netmask: pinned to room for 8 blocks
# (>= the 6 AZs allowed), adding an AZ would otherwise shrink every AZ's block and move its subnets.
AZ_BLOCK_BITS = 3

# --- NAT instances and the S3 gateway endpoint (docs/network.md) ---
NAT_INSTANCE_MODES = ("instance", "instancePerAz")
# The fck-nat project's AMI publishing account (fck-nat docs, "Getting a fck-nat AMI").
FCK_NAT_AMI_OWNER = "568608671756"
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# Graviton instance families carry a `g` after the generation digit (t4g, c7gn, m6gd, r8g).
GRAVITON_FAMILY = re.compile(r"[a-z]+\d+g[a-z]*")


class NatInstanceConfig(ConfigModel):
    """A NAT instance: the fck-nat AMI in an Auto Scaling group of one per NAT (docs/network.md)."""

    instance_type: str = Field(default="t4g.nano", description="EC2 instance type (ARM t4g.nano: ~$3/month).")
    ami: Optional[str] = Field(default=None, description="The AMI id, pinned (per region).")
    ami_name: Optional[str] = Field(default=None, min_length=1, description="Or the exact AMI name (the same "
                                    "in every region), looked up among amiOwner's images in the stack's region.")
    ami_owner: str = Field(default=FCK_NAT_AMI_OWNER,
                           description="Account that publishes amiName (default: the fck-nat project's).")
    root_volume_gb: int = Field(default=4, ge=2, le=64, description="Encrypted gp3 root volume (GB).")
    default_routes: bool = Field(default=True, description="Route the private subnets' 0.0.0.0/0 through the "
                                 "instance; false only for the first step of a switch (docs/network.md).")

    @field_validator("instance_type")
    @classmethod
    def _instance_type_shape(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9-]*\.[a-z0-9]+", value):
            raise ValueError("not an EC2 instance type (family.size, e.g. t4g.nano)")
        return value

    @field_validator("ami_owner")
    @classmethod
    def _account_id(cls, value: str) -> str:
        if not re.fullmatch(r"\d{12}", value):
            raise ValueError(f"must be the 12-digit id of the account publishing the image (fck-nat's is "
                             f"{FCK_NAT_AMI_OWNER}); a name alone would match any look-alike public image")
        return value

    @field_validator("ami")
    @classmethod
    def _ami_id_shape(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not re.fullmatch(r"ami-[0-9a-f]{8}([0-9a-f]{9})?", value):
            raise ValueError("not an AMI id (ami- and 8 or 17 hex digits); look it up with aws ec2 describe-images "
                             "(docs/network.md)")
        return value

    @property
    def architecture(self) -> str:
        return "arm64" if GRAVITON_FAMILY.fullmatch(self.instance_type.split(".")[0]) else "x86_64"



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
    nat_gateways: Literal["single", "onePerAz", "instance", "instancePerAz"] = Field(
        default="onePerAz",
        description="One shared NAT gateway (cheaper) or one per AZ (no cross-AZ single point of failure); "
                    "or a NAT instance (`instance`, one per stack) or one per AZ (`instancePerAz`), a tenth of "
                    "a gateway's price with burstable throughput (docs/network.md). prod's policy requires "
                    "gateways.",
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
    # --- NAT instances and the S3 gateway endpoint (docs/network.md) ---
    nat_instance: Optional[NatInstanceConfig] = Field(
        default=None, description="The NAT instance(s) when natGateways is instance or instancePerAz.")
    s3_endpoint_buckets: list[str] = Field(
        default_factory=list, description="Other accounts' buckets in this region the tasks use: the S3 gateway "
        "endpoint's policy admits this account's buckets, ECR's layer bucket and these names only.")

    @field_validator("s3_endpoint_buckets")
    @classmethod
    def _bucket_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not BUCKET_NAME.fullmatch(name) or ".." in name:
                raise ValueError(f"{name!r} is not an S3 bucket name (3-63 characters of a-z, 0-9, '.' and '-', "
                                 f"starting and ending with a letter or digit)")
        return names

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
