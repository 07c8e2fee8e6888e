"""StaticSite: the static frontend on S3 behind one CloudFront distribution, which also fronts the API.

    viewer --HTTPS--> CloudFront --OAC (SigV4)--> private bucket     (default behaviour, cached, SPA fallback)
                                 --HTTPS + X-Origin-Verify--> ALB    (`apiPaths`: not cached, all headers but Host)

The bucket is private (`PrivateBucket`); its policy lets this distribution only (AWS:SourceArn) read and
list it. CloudFront reaches the load balancer on `origin_domain_name`, a name of the load balancer's
certificate (TLSv1.2), and adds the secret origin header the listener rules require
(`LoadBalancer.origin_header`), so a request that bypasses CloudFront gets the listener's 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.bucket import PrivateBucket, PrivateBucketArgs
from helpers.bucket_policies import bucket_policy, cloudfront_list_statement, cloudfront_read_statement
from helpers.static_site import (
    ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID,
    CACHING_DISABLED_POLICY_ID,
    CACHING_OPTIMIZED_POLICY_ID,
    FUNCTION_RUNTIME,
    SPA_FALLBACK_CODE,
)
from stackconfig.edge import FrontendConfig

BUCKET_ORIGIN_ID = "frontend-bucket"
LOAD_BALANCER_ORIGIN_ID = "load-balancer"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
# Overwritten or deleted files stay recoverable (a bad release synced over a good one) this long.
NONCURRENT_VERSION_DAYS = 30
ABORT_INCOMPLETE_UPLOADS_DAYS = 7


@dataclass(frozen=True)
class StaticSiteArgs:
    settings: FrontendConfig
    # The viewer names (domain.recordName + alternativeNames) and their us-east-1 ACM certificate.
    aliases: Sequence[str]
    certificate_arn: pulumi.Input[str]
    # The load balancer as CloudFront reaches it: a name on its certificate, and the header its rules require.
    origin_domain_name: pulumi.Input[str]
    origin_header_name: str
    origin_header_value: pulumi.Input[str]
    # `pulumi destroy` empties the bucket (outside prod); `protect` (prod).
    force_destroy: bool = False
    protect: bool = False
    # A WAF web ACL of CLOUDFRONT scope (created in us-east-1): `StackConfig.web_acl_scope` says where it goes.
    web_acl_arn: Optional[pulumi.Input[str]] = None


class StaticSite(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    distribution_id: pulumi.Output[str]
    distribution_arn: pulumi.Output[str]
    domain_name: pulumi.Output[str]
    hosted_zone_id: pulumi.Output[str]

    def __init__(self, name: str, args: StaticSiteArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:static_site:StaticSite", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings

        self.bucket = PrivateBucket(f"{name}-bucket", PrivateBucketArgs(
            lifecycle_rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-old-versions",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=NONCURRENT_VERSION_DAYS
                ),
                abort_incomplete_multipart_upload=(
                    aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=ABORT_INCOMPLETE_UPLOADS_DAYS
                    )
                ),
            )],
            force_destroy=args.force_destroy,
            protect=args.protect,
        ), opts=child)
        self.access_control = aws.cloudfront.OriginAccessControl(
            f"{name}-oac",
            description="CloudFront reads the frontend bucket, signing every request (SigV4)",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=child,
        )
        self.spa_fallback = aws.cloudfront.Function(
            f"{name}-spa-fallback",
            runtime=FUNCTION_RUNTIME,
            comment="Paths without a file extension are app routes: serve /index.html",
            code=SPA_FALLBACK_CODE,
            publish=True,
            opts=child,
        ) if settings.spa_fallback else None

        self.distribution = aws.cloudfront.Distribution(
            f"{name}-cdn",
            enabled=True,
            comment=f"{pulumi.get_project()}-{pulumi.get_stack()} frontend and API",
            aliases=list(args.aliases),
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=settings.price_class,
            default_root_object="index.html",
            origins=[
                aws.cloudfront.DistributionOriginArgs(
                    origin_id=BUCKET_ORIGIN_ID,
                    domain_name=self.bucket.regional_domain_name,
                    origin_access_control_id=self.access_control.id,
                ),
                aws.cloudfront.DistributionOriginArgs(
                    origin_id=LOAD_BALANCER_ORIGIN_ID,
                    domain_name=args.origin_domain_name,
                    custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                        http_port=80,
                        https_port=443,
                        origin_protocol_policy="https-only",
                        origin_ssl_protocols=["TLSv1.2"],
                    ),
                    custom_headers=[aws.cloudfront.DistributionOriginCustomHeaderArgs(
                        name=args.origin_header_name, value=args.origin_header_value,
                    )],
                ),
            ],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=BUCKET_ORIGIN_ID,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=["GET", "HEAD", "OPTIONS"],
                cached_methods=["GET", "HEAD"],
                compress=True,
                cache_policy_id=CACHING_OPTIMIZED_POLICY_ID,
                function_associations=[aws.cloudfront.DistributionDefaultCacheBehaviorFunctionAssociationArgs(
                    event_type="viewer-request", function_arn=self.spa_fallback.arn,
                )] if self.spa_fallback is not None else None,
            ),
            # API calls come from the app's own HTTPS pages: plain HTTP is refused, never redirected (a
            # redirected POST would lose its body).
            ordered_cache_behaviors=[aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
                path_pattern=path,
                target_origin_id=LOAD_BALANCER_ORIGIN_ID,
                viewer_protocol_policy="https-only",
                allowed_methods=ALL_METHODS,
                cached_methods=["GET", "HEAD"],
                compress=True,
                cache_policy_id=CACHING_DISABLED_POLICY_ID,
                origin_request_policy_id=ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID,
            ) for path in settings.api_paths],
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none"),
            ),
            viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
                acm_certificate_arn=args.certificate_arn,
                ssl_support_method="sni-only",
                minimum_protocol_version="TLSv1.2_2021",
            ),
            web_acl_id=args.web_acl_arn,
            opts=child,
        )
        self.policy = self.bucket.attach_policy(
            f"{name}-policy",
            pulumi.Output.all(self.bucket.arn, self.distribution.arn).apply(lambda arns: bucket_policy(arns[0], [
                cloudfront_read_statement(*arns), cloudfront_list_statement(*arns),
            ])),
            parent=self,
        )

        self.bucket_name = self.bucket.bucket_name
        self.distribution_id = self.distribution.id
        self.distribution_arn = self.distribution.arn
        self.domain_name = self.distribution.domain_name
        self.hosted_zone_id = self.distribution.hosted_zone_id
        self.register_outputs({
            "bucketName": self.bucket_name,
            "distributionId": self.distribution_id,
            "distributionArn": self.distribution_arn,
            "domainName": self.domain_name,
        })
