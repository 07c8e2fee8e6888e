"""Edge and delivery config: `webstack:domain`, `webstack:registry`, `webstack:storage`, `webstack:accessLogs`,
and a service's `migrate` block."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, Field, PrivateAttr, field_validator

from stackconfig.base import ConfigModel, doc

# A DNS name of letters, digits and hyphens, lower case (ACM and Route 53 store names in lower case).
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
# ACM's default quota: 10 names per certificate (the domain name plus 9 alternative names).
MAX_ALTERNATIVE_NAMES = 9
# ACM puts the first name in the certificate's Common Name, which RFC 5280 limits to 64 octets
# (alternative names may be up to 253).
MAX_COMMON_NAME_LENGTH = 64


def _alternative_name(name: str) -> str:
    if name.startswith("*."):
        raise ValueError("wildcard names are not supported (ACM gives a wildcard the same validation record as its "
                         "base name); list each host name instead")
    if not HOSTNAME.match(name):
        raise ValueError("not a lower-case DNS name like www.example.com")
    return name


AlternativeName = Annotated[str, AfterValidator(_alternative_name)]


class DomainConfig(ConfigModel):
    """A public hosted zone and the name(s) the application answers on.

    The program requests an ACM certificate for `recordName` (+ `alternativeNames`), validates it with
    DNS records in the zone, uses it on the HTTPS listener and points alias records at the load balancer.
    """

    zone_name: Optional[str] = Field(
        default=None,
        description="The public hosted zone by name (looked up with route53.getZone). Exactly one of zoneName or "
                    "zoneId.",
    )
    zone_id: Optional[str] = Field(default=None, description="The public hosted zone by id, e.g. Z0123456789ABC.")
    record_name: str = Field(
        description="The name the application answers on (stack output `url` becomes https://<recordName>); in the "
                    "zone, at most 64 characters (ACM puts it in the certificate's Common Name).",
    )
    alternative_names: list[AlternativeName] = Field(
        default_factory=list, max_length=MAX_ALTERNATIVE_NAMES,
        description="More names on the certificate and alias records, e.g. www.example.com; in the zone, no "
                    "wildcards, distinct from recordName.",
    )
    replace_existing_records: bool = Field(
        default=False,
        description="DNS cutover: take over records that already exist (e.g. an A record pointing at an old server).",
    )

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

    @field_validator("zone_id")
    @classmethod
    def _zone_id(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not HOSTED_ZONE_ID.match(value):
            raise ValueError(f"{value!r} is not a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ")
        return value

    @property
    def names(self) -> list[str]:
        """Every name on the certificate, the primary first."""
        return [self.record_name, *self.alternative_names]


# ECR's CreateRepository: 2-256 characters, lower-case path components joined by `.`, `_`, `__` or dashes.
ECR_REPOSITORY_NAME = re.compile(r"^(?=.{2,256}$)[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$")


class RegistryConfig(ConfigModel):
    """ECR repositories, one per image the stack builds (a service whose `image.repository` is a bare name)."""

    keep_tagged_images: int = Field(
        default=30, ge=1, le=1000,
        description="Newest tagged images kept per repository: how far back a rollback can go.",
    )
    untagged_expiry_days: int = Field(
        default=7, ge=1, le=365,
        description="Untagged images (superseded layers, failed pushes) expire after this many days.",
    )
    tag_mutability: Optional[Literal["MUTABLE", "IMMUTABLE"]] = Field(
        default=None,
        description="Whether a tag can be pushed twice; prod refuses MUTABLE (a deployed tag must always name the "
                    "same image).",
    )
    encryption: Literal["AES256", "KMS"] = Field(
        default="AES256",
        description="Encryption at rest: S3-managed keys or the AWS-managed aws/ecr KMS key. Fixed at creation: "
                    "changing it replaces the repository (same name, so the old one is deleted first): in dev its "
                    "images go with it and must be pushed again; in prod the replacement fails while the repository "
                    "holds images.",
    )
    force_delete: Optional[bool] = Field(
        default=None,
        description="`pulumi destroy` deletes repositories that still hold images; prod refuses true.",
    )

    def resolved(self, production: bool) -> "RegistryConfig":
        """The same settings with the environment's defaults filled in: IMMUTABLE tags and no force delete in
        prod, MUTABLE and disposable elsewhere."""
        return self.model_copy(update={
            "tag_mutability": self.tag_mutability or ("IMMUTABLE" if production else "MUTABLE"),
            "force_delete": (not production) if self.force_delete is None else self.force_delete,
        })


class StorageConfig(ConfigModel):
    """The private media/static bucket (Django `USE_S3`), optionally behind CloudFront."""

    archive_after_days: int = Field(
        default=90, ge=1, le=36500,
        description="Objects move to S3 Glacier Instant Retrieval (same latency, lower storage price) after this "
                    "many days.",
    )
    noncurrent_version_expiry_days: int = Field(
        default=30, ge=1, le=36500, description="Overwritten or deleted objects stay recoverable this many days.",
    )
    abort_incomplete_uploads_days: int = Field(default=7, ge=1, le=365,
                                               description="Abandoned multipart uploads are removed after this.")
    cdn: bool = Field(default=False,
                      description="A CloudFront distribution in front of the bucket (origin access control, HTTPS "
                                  "only).")
    cdn_price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = Field(
        default="PriceClass_100", description="CloudFront edge locations used.",
    )
    access_logs: Optional[bool] = Field(
        default=None,
        description="S3 server access logs of the bucket (every request: who read, wrote or deleted what) in the "
                    "access-log bucket of `webstack:accessLogs`, under `accessLogsPrefix`.",
        json_schema_extra=doc(default="on when webstack:accessLogs is (prod)",
                              allowed="true only with webstack:accessLogs enabled"),
    )
    access_logs_prefix: str = Field(
        default="media/", pattern=r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$",
        description="The bucket's own key prefix in the access-log bucket, beside the load balancer's.",
        json_schema_extra=doc(allowed="S3 key characters ending in `/`, outside accessLogs.prefix"),
    )
    # Set by `resolved()`, not keys: a prod bucket is protected and never emptied by `pulumi destroy`.
    _force_destroy: bool = PrivateAttr(default=False)
    _protect: bool = PrivateAttr(default=False)

    @property
    def force_destroy(self) -> bool:
        return self._force_destroy

    @property
    def protect(self) -> bool:
        return self._protect

    def resolved(self, production: bool, log_bucket: Optional[bool] = None) -> "StorageConfig":
        """`log_bucket`: whether the stack has the access-log bucket (`StackConfig.resolved()`; unset, as in prod)."""
        has_log_bucket = production if log_bucket is None else log_bucket
        copy = self.model_copy(update={
            "access_logs": has_log_bucket if self.access_logs is None else self.access_logs,
        })
        copy._force_destroy, copy._protect = not production, production
        return copy


class AccessLogsConfig(ConfigModel):
    """Load balancer access logs in a dedicated bucket."""

    enabled: Optional[bool] = Field(default=None, description="Access logs on or off.")
    expiry_days: int = Field(default=90, ge=1, le=36500, description="Log files are deleted after this many days.")
    prefix: str = Field(
        default="alb", pattern=r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$",
        description="Key prefix inside the bucket (logs land under <prefix>/AWSLogs/<account>/...).",
        json_schema_extra=doc(allowed="S3 key characters, not containing AWSLogs"),
    )
    # Set by `resolved()`, not a key: outside prod `pulumi destroy` empties the bucket.
    _force_destroy: bool = PrivateAttr(default=False)

    @field_validator("prefix")
    @classmethod
    def _no_awslogs(cls, prefix: str) -> str:
        if "AWSLogs" in prefix:
            raise ValueError("the prefix must not contain AWSLogs (Elastic Load Balancing adds it)")
        return prefix

    @property
    def force_destroy(self) -> bool:
        return self._force_destroy

    def resolved(self, production: bool) -> "AccessLogsConfig":
        copy = self.model_copy(update={"enabled": production if self.enabled is None else self.enabled})
        copy._force_destroy = not production
        return copy


class MigrateConfig(ConfigModel):
    """A one-off task with the service's image, environment, secrets and network, e.g. Django's migrate."""

    command: list[str] = Field(min_length=1, description='The command, e.g. ["python", "manage.py", "migrate", '
                                                         '"--noinput"].')


StorageAccess = Literal["readwrite", "readonly"]


# CloudFront's path patterns: at most 255 characters of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & and the
# wildcards * and ?, case sensitive.
CLOUDFRONT_PATH_PATTERN = re.compile(r"^/[A-Za-z0-9_\-.$/~\"'@:+&*?]{0,254}$")
# CloudFront's default quota: 25 cache behaviours per distribution (the default one apart).
MAX_API_PATHS = 24
CLOUDFRONT_CERTIFICATE_REGION = "us-east-1"
ACM_CERTIFICATE_ARN = re.compile(r"^arn:aws:acm:([a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$")


def _api_path(path: str) -> str:
    if not CLOUDFRONT_PATH_PATTERN.match(path):
        raise ValueError("a CloudFront path pattern starts with '/' and is at most 255 characters of letters, "
                         "digits, _ - . $ / ~ \" ' @ : + & and the wildcards * and ?")
    if path == "/*":
        raise ValueError("/* is every path: the default behaviour serves the bucket; list the load balancer's "
                         "paths, e.g. /api/*")
    return path


ApiPath = Annotated[str, AfterValidator(_api_path)]


class FrontendConfig(ConfigModel):
    """A static frontend: built files in a private S3 bucket behind one CloudFront distribution, which also
    sends `apiPaths` to the load balancer. The load balancer then accepts traffic from CloudFront only."""

    kind: Literal["static"] = Field(
        description="`static`: the frontend's build output served from S3 through CloudFront (no Fargate "
                    "service).",
    )
    build_dir: str = Field(
        default="frontend/dist", pattern=r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$",
        description="Where the release finds the built files (relative to the project), synced to the bucket "
                    "with `aws s3 sync`.",
        json_schema_extra=doc(allowed="a relative path of letters, digits, _ . - separated by /"),
    )
    build_command: list[str] = Field(
        default_factory=list,
        description='What the release runs (in the project) before syncing, e.g. ["npm", "--prefix", "frontend", '
                    '"run", "build"]; empty: the files are already built.',
    )
    api_paths: list[ApiPath] = Field(
        default_factory=lambda: ["/api/*"], min_length=1, max_length=MAX_API_PATHS,
        description="CloudFront path patterns sent to the load balancer (no caching, every viewer header but "
                    "Host forwarded); every other path is served from the bucket. Each service route must lie "
                    "under one of them.",
    )
    spa_fallback: bool = Field(
        default=True,
        description="Single-page app: a viewer-request CloudFront Function rewrites paths without a file "
                    "extension (/about, /users/42) to /index.html on the bucket's behaviour only (API 404s stay "
                    "404s).",
    )
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = Field(
        default="PriceClass_100", description="CloudFront edge locations used.",
    )
    origin_record_name: Optional[str] = Field(
        default=None,
        description="The name CloudFront reaches the load balancer on (an alias record to it, on the stack's "
                    "certificate). Unset: origin.<domain.recordName>.",
    )
    certificate_arn: Optional[str] = Field(
        default=None,
        description="An issued ACM certificate in us-east-1 for domain.recordName (+ alternativeNames), for "
                    "CloudFront. Needed when aws:region is not us-east-1 (CloudFront takes certificates from "
                    "us-east-1 only); in us-east-1 the stack's own certificate is used.",
        json_schema_extra=doc(allowed="an ACM certificate ARN in us-east-1"),
    )
    # Set by `resolved()`, not keys: a prod bucket is protected and never emptied by `pulumi destroy`.
    _force_destroy: bool = PrivateAttr(default=False)
    _protect: bool = PrivateAttr(default=False)

    @property
    def force_destroy(self) -> bool:
        return self._force_destroy

    @property
    def protect(self) -> bool:
        return self._protect

    def resolved(self, production: bool) -> "FrontendConfig":
        copy = self.model_copy()
        copy._force_destroy, copy._protect = not production, production
        return copy

    @field_validator("origin_record_name")
    @classmethod
    def _hostname(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not HOSTNAME.match(value):
            raise ValueError(f"{value!r} is not a lower-case DNS name like origin.example.com (no trailing dot)")
        return value

    @field_validator("certificate_arn")
    @classmethod
    def _us_east_1_certificate(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return value
        match = ACM_CERTIFICATE_ARN.match(value)
        if not match:
            raise ValueError("expected an ACM certificate ARN like "
                             "arn:aws:acm:us-east-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef")
        if match.group(1) != CLOUDFRONT_CERTIFICATE_REGION:
            raise ValueError(f"the certificate is in {match.group(1)}; CloudFront uses ACM certificates from "
                             f"{CLOUDFRONT_CERTIFICATE_REGION} only")
        return value

    def origin_name(self, domain: DomainConfig) -> str:
        """The load balancer's name for CloudFront: `originRecordName` or origin.<recordName>."""
        return self.origin_record_name or f"origin.{domain.record_name}"

    def serves_api_path(self, route_path: str) -> bool:
        """Whether CloudFront sends requests matching the ALB route pattern to the load balancer: the pattern
        is one of `apiPaths` or lies under one ending in `*` (/api/v1/* under /api/*)."""
        return any(route_path == api or (api.endswith("*") and route_path.startswith(api[:-1]))
                   for api in self.api_paths)
