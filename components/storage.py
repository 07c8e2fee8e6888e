"""MediaStorage: the private bucket for uploads and static files, optionally behind CloudFront.

Objects older than `archive_after_days` move to Glacier Instant Retrieval (millisecond reads, lower
storage price), overwritten or deleted versions expire, abandoned multipart uploads are cleaned up.
Nothing is public: with `cdn`, CloudFront reads through an origin access control that the bucket
policy names by distribution ARN; services get access through their task role only
(`access_statements`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.bucket import PrivateBucket, PrivateBucketArgs
from helpers.bucket_policies import bucket_policy, cloudfront_read_statement, task_access_statements
from stackconfig.edge import StorageAccess, StorageConfig

# AWS managed cache policy "Managed-CachingOptimized".
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ORIGIN_ID = "media-bucket"


@dataclass(frozen=True)
class MediaStorageArgs:
    # Resolved: `force_destroy` outside prod, `protect` in prod.
    settings: StorageConfig
    region: str


class MediaStorage(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    cdn_domain_name: Optional[pulumi.Output[str]]

    def __init__(self, name: str, args: MediaStorageArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:storage:MediaStorage", name, None, opts)
        settings = args.settings
        self.region = args.region

        self.bucket = PrivateBucket(f"{name}-bucket", PrivateBucketArgs(
            lifecycle_rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="archive-and-expire-old-versions",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
                transitions=[aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                    days=settings.archive_after_days, storage_class="GLACIER_IR"
                )],
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=settings.noncurrent_version_expiry_days
                ),
                abort_incomplete_multipart_upload=(
                    aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=settings.abort_incomplete_uploads_days
                    )
                ),
            )],
            force_destroy=settings.force_destroy,
            protect=settings.protect,
        ), opts=pulumi.ResourceOptions(parent=self))

        grants: list[pulumi.Input[dict]] = []
        self.cdn_domain_name = None
        if settings.cdn:
            self.distribution = self._distribution(name, settings)
            grants.append(pulumi.Output.all(self.bucket.arn, self.distribution.arn).apply(
                lambda arns: cloudfront_read_statement(*arns)
            ))
            self.cdn_domain_name = self.distribution.domain_name
        self.policy = self.bucket.attach_policy(
            f"{name}-policy",
            pulumi.Output.all(self.bucket.arn, *grants).apply(lambda values: bucket_policy(values[0], values[1:])),
            parent=self,
        )

        self.bucket_name = self.bucket.bucket_name
        self.bucket_arn = self.bucket.arn
        self.register_outputs({
            "bucketName": self.bucket_name,
            "bucketArn": self.bucket_arn,
            **({"cdnDomainName": self.cdn_domain_name} if self.cdn_domain_name is not None else {}),
        })

    def access_statements(self, access: StorageAccess) -> pulumi.Output[list[dict]]:
        """Task-role statements for a service that uses the bucket: this bucket only, `access` actions only."""
        return self.bucket_arn.apply(lambda arn: task_access_statements(arn, access))

    def environment(self) -> dict[str, pulumi.Input[str]]:
        """What the application reads: the bucket (generic and django-storages names), its region, its CDN host."""
        variables: dict[str, pulumi.Input[str]] = {
            "MEDIA_BUCKET": self.bucket_name,
            "AWS_STORAGE_BUCKET_NAME": self.bucket_name,
            "AWS_S3_REGION_NAME": self.region,
        }
        if self.cdn_domain_name is not None:
            variables["AWS_S3_CUSTOM_DOMAIN"] = self.cdn_domain_name
        return variables

    def _distribution(self, name: str, settings: StorageConfig) -> aws.cloudfront.Distribution:
        child = pulumi.ResourceOptions(parent=self)
        access_control = aws.cloudfront.OriginAccessControl(
            f"{name}-oac",
            description="CloudFront reads the media bucket, signing every request (SigV4)",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=child,
        )
        return aws.cloudfront.Distribution(
            f"{name}-cdn",
            enabled=True,
            comment=f"{pulumi.get_project()}-{pulumi.get_stack()} media",
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=settings.cdn_price_class,
            origins=[aws.cloudfront.DistributionOriginArgs(
                origin_id=ORIGIN_ID,
                domain_name=self.bucket.regional_domain_name,
                origin_access_control_id=access_control.id,
            )],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=ORIGIN_ID,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=["GET", "HEAD", "OPTIONS"],
                cached_methods=["GET", "HEAD"],
                compress=True,
                cache_policy_id=CACHING_OPTIMIZED_POLICY_ID,
            ),
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none"),
            ),
            viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(cloudfront_default_certificate=True),
            opts=child,
        )
