"""`webstack:loadBalancer`: the public entry point."""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import Field, field_validator

from stackconfig.base import ConfigModel

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
    # An ACM certificate for HTTPS; without one (dev) the load balancer listens on HTTP only.
    certificate_arn: Optional[str] = None
    ssl_policy: Literal[TLS_POLICIES] = TLS_POLICIES[0]  # type: ignore[valid-type]
    # Seconds an idle connection stays open; WebSocket apps want more than the 60 s default.
    idle_timeout: int = Field(default=60, ge=1, le=4000)
    # None: on in prod, off elsewhere.
    deletion_protection: Optional[bool] = None

    @field_validator("certificate_arn")
    @classmethod
    def _acm_arn(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not CERTIFICATE_ARN.match(value):
            raise ValueError(
                "expected an ACM certificate ARN like "
                "arn:aws:acm:us-east-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef"
            )
        return value
