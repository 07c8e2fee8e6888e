"""`webstack:loadBalancer`: the public entry point."""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import Field, field_validator

from stackconfig.base import ConfigModel, doc

# TLS 1.3-capable policies; the default accepts TLS 1.2 and 1.3 only (AWS's recommended policy).
TLS_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
)
CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")


class LoadBalancerConfig(ConfigModel):
    """The internet-facing Application Load Balancer."""

    certificate_arn: Optional[str] = Field(
        default=None,
        description="An existing ACM certificate: HTTPS on 443 and HTTP redirected to HTTPS. With neither this nor "
                    "`domain` the load balancer listens on HTTP only (dev).",
        json_schema_extra=doc(allowed="an ACM certificate ARN of the stack's region; not together with `domain`"),
    )
    ssl_policy: Literal[TLS_POLICIES] = Field(  # type: ignore[valid-type]
        default=TLS_POLICIES[0],
        description="TLS policy of the HTTPS listener; the default accepts TLS 1.2 and 1.3 only (AWS's "
                    "recommended policy).",
    )
    idle_timeout: int = Field(
        default=60, ge=1, le=4000,
        description="Seconds an idle connection stays open; WebSocket apps want more than the 60 s default.",
    )
    deletion_protection: Optional[bool] = Field(
        default=None,
        description="ALB deletion protection: `pulumi destroy` cannot delete the load balancer while it is on. "
                    "Unset: on in prod, off elsewhere.",
    )

    def resolved(self, production: bool) -> "LoadBalancerConfig":
        """The same settings with the environment's defaults filled in."""
        return self.model_copy(update={
            "deletion_protection": production if self.deletion_protection is None else self.deletion_protection,
        })

    @field_validator("certificate_arn")
    @classmethod
    def _acm_arn(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not CERTIFICATE_ARN.match(value):
            raise ValueError(
                "expected an ACM certificate ARN like "
                "arn:aws:acm:us-east-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef"
            )
        return value
