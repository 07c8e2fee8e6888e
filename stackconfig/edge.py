"""Edge and delivery config: `webstack:domain`, `webstack:registry`, `webstack:storage`, `webstack:accessLogs`,
and a service's `migrate` block."""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from stackconfig.base import ConfigModel

# A DNS name of letters, digits and hyphens, lower case (ACM and Route 53 store names in lower case).
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
# ACM's default quota: 10 names per certificate (the domain name plus 9 alternative names).
MAX_ALTERNATIVE_NAMES = 9
# ACM puts the first name in the certificate's Common Name, which RFC 5280 limits to 64 octets
# (alternative names may be up to 253).
MAX_COMMON_NAME_LENGTH = 64


class DomainConfig(ConfigModel):
    """A public hosted zone and the name(s) the application answers on.

    The program requests an ACM certificate for `recordName` (+ `alternativeNames`), validates it with
    DNS records in the zone, uses it on the HTTPS listener and points alias records at the load balancer.
    """

    # The zone by name (looked up with route53.getZone) or by id; exactly one.
    zone_name: Optional[str] = None
    zone_id: Optional[str] = None
    record_name: str
    alternative_names: list[str] = Field(default_factory=list, max_length=MAX_ALTERNATIVE_NAMES)
    # DNS cutover: take over records that already exist (e.g. an A record pointing at an old server).
    replace_existing_records: bool = False

    @field_validator("zone_name", "record_name")
    @classmethod
    def _hostname(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not HOSTNAME.match(value):
            raise ValueError(f"{value!r} is not a lower-case DNS name like app.example.com (no trailing dot)")
        return value

    @field_validator("record_name")
    @classmethod
    def _common_name_length(cls, value: str) -> str:
        if len(value) > MAX_COMMON_NAME_LENGTH:
            raise ValueError(
                f"{value!r} is {len(value)} characters; ACM puts recordName in the certificate's Common Name, "
                f"which is at most {MAX_COMMON_NAME_LENGTH} (use a shorter recordName; longer names can be "
                f"alternativeNames)"
            )
        return value

    @field_validator("alternative_names")
    @classmethod
    def _alternative_hostnames(cls, names: list[str]) -> list[str]:
        for name in names:
            if name.startswith("*."):
                raise ValueError(
                    f"{name!r}: wildcard names are not supported (ACM gives a wildcard the same validation "
                    f"record as its base name); list each host name instead"
                )
            if not HOSTNAME.match(name):
                raise ValueError(f"{name!r} is not a lower-case DNS name like www.example.com")
        return names

    @field_validator("zone_id")
    @classmethod
    def _zone_id(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not HOSTED_ZONE_ID.match(value):
            raise ValueError(f"{value!r} is not a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ")
        return value

    @model_validator(mode="after")
    def _zone_and_names(self) -> "DomainConfig":
        if (self.zone_name is None) == (self.zone_id is None):
            raise ValueError("set exactly one of zoneName (e.g. example.com) or zoneId (e.g. Z0123456789ABC)")
        names = self.names
        if len(set(names)) != len(names):
            raise ValueError("recordName and alternativeNames must be distinct")
        if self.zone_name is not None:
            outside = [name for name in names if name != self.zone_name and not name.endswith("." + self.zone_name)]
            if outside:
                raise ValueError(
                    f"{', '.join(outside)} not in zone {self.zone_name}; validation and alias records "
                    f"can only be created in that zone"
                )
        return self

    @property
    def names(self) -> list[str]:
        """Every name on the certificate, the primary first."""
        return [self.record_name, *self.alternative_names]


# ECR's CreateRepository: 2-256 characters, lower-case path components joined by `.`, `_`, `__` or dashes.
ECR_REPOSITORY_NAME = re.compile(r"^(?=.{2,256}$)[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$")


class RegistryConfig(ConfigModel):
    """ECR repositories, one per image the stack builds (a service whose `image.repository` is a bare name)."""

    # Tagged images kept per repository: the window you can roll back within.
    keep_tagged_images: int = Field(default=30, ge=1, le=1000)
    untagged_expiry_days: int = Field(default=7, ge=1, le=365)
    # None: IMMUTABLE in prod (a tag always means the same image), MUTABLE elsewhere.
    tag_mutability: Optional[Literal["MUTABLE", "IMMUTABLE"]] = None
    # AES256 (S3-managed keys) or KMS (the AWS-managed aws/ecr key).
    encryption: Literal["AES256", "KMS"] = "AES256"
    # None: a dev stack's `pulumi destroy` deletes repositories with their images; prod never does.
    force_delete: Optional[bool] = None

    def mutability(self, production: bool) -> str:
        if self.tag_mutability is not None:
            return self.tag_mutability
        return "IMMUTABLE" if production else "MUTABLE"

    def deletes_images(self, production: bool) -> bool:
        return (not production) if self.force_delete is None else self.force_delete


class StorageConfig(ConfigModel):
    """The private media/static bucket (Django `USE_S3`), optionally behind CloudFront."""

    # Objects move to S3 Glacier Instant Retrieval (same latency, lower storage price) after this many days.
    archive_after_days: int = Field(default=90, ge=1, le=36500)
    # Overwritten or deleted objects stay recoverable for this many days.
    noncurrent_version_expiry_days: int = Field(default=30, ge=1, le=36500)
    abort_incomplete_uploads_days: int = Field(default=7, ge=1, le=365)
    # A CloudFront distribution in front of the bucket (origin access control, HTTPS only).
    cdn: bool = False
    cdn_price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = "PriceClass_100"


class AccessLogsConfig(ConfigModel):
    """Load balancer access logs in a dedicated bucket."""

    # None: on in prod, off elsewhere.
    enabled: Optional[bool] = None
    expiry_days: int = Field(default=90, ge=1, le=36500)
    # Key prefix inside the bucket; AWS rejects a prefix containing "AWSLogs".
    prefix: str = Field(default="alb", pattern=r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$")

    @field_validator("prefix")
    @classmethod
    def _no_awslogs(cls, prefix: str) -> str:
        if "AWSLogs" in prefix:
            raise ValueError("the prefix must not contain AWSLogs (Elastic Load Balancing adds it)")
        return prefix

    def is_enabled(self, production: bool) -> bool:
        return production if self.enabled is None else self.enabled


class MigrateConfig(ConfigModel):
    """A one-off task with the service's image, environment, secrets and network, e.g. Django's migrate."""

    command: list[str] = Field(min_length=1)


StorageAccess = Literal["readwrite", "readonly"]
