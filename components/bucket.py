"""PrivateBucket: an S3 bucket with the controls every bucket of the stack shares.

Object ownership enforced (ACLs off), all four public access blocks, default encryption (SSE-S3), versioning
and the caller's lifecycle rules. The bucket policy is left to the owner (media storage, access logs): S3
takes one policy per bucket, and its grants name resources created after the bucket (a distribution).
Build it with `helpers.bucket_policies.bucket_policy`, which always starts with the TLS-only deny.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class PrivateBucketArgs:
    lifecycle_rules: Sequence[aws.s3.BucketLifecycleConfigurationRuleArgs]
    # Let `pulumi destroy` empty the bucket first (dev); otherwise destroying a non-empty bucket fails.
    force_destroy: bool = False
    protect: bool = False


class PrivateBucket(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    arn: pulumi.Output[str]
    regional_domain_name: pulumi.Output[str]

    def __init__(self, name: str, args: PrivateBucketArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:bucket:PrivateBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # Auto-named (`<name>-<random>`): bucket names are global, and a replacement needs a new one.
        self.bucket = aws.s3.Bucket(
            name,
            force_destroy=args.force_destroy,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        self.public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        # SSE-S3: the one encryption Elastic Load Balancing log delivery accepts, and one CloudFront's
        # origin access control can read without a customer-managed KMS key policy.
        self.encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=(
                    aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                ),
            )],
            opts=child,
        )
        self.versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child,
        )
        # Lifecycle rules on a versioned bucket must wait for versioning to be on (AWS's documented order).
        self.lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=list(args.lifecycle_rules),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.versioning]),
        )

        self.bucket_name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.regional_domain_name = self.bucket.bucket_regional_domain_name
        self.register_outputs({
            "bucketName": self.bucket_name,
            "arn": self.arn,
            "regionalDomainName": self.regional_domain_name,
        })

    def attach_policy(self, name: str, policy: pulumi.Input[str], parent: pulumi.Resource) -> aws.s3.BucketPolicy:
        """The bucket's one policy, applied after the public access block (so S3 judges it with the block on)."""
        return aws.s3.BucketPolicy(
            name,
            bucket=self.bucket.id,
            policy=policy,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[self.public_access_block, self.ownership]),
        )
