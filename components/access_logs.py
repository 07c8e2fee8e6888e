"""AccessLogs: the dedicated bucket the load balancer writes its access logs to, and other buckets their
S3 server access logs (each under a prefix of its own).

SSE-S3 (the only encryption ALB log delivery supports), private, versioned, TLS only, logs expire after
`expiry_days`. The bucket policy lets Elastic Load Balancing write under `<prefix>/AWSLogs/<account>/`
only: through the `logdelivery.elasticloadbalancing.amazonaws.com` principal (every region opened since
August 2022) and, in older regions, also through the region's ELB account (`elb.getServiceAccount`).
S3 log delivery (`logging.s3.amazonaws.com`) may write a source bucket's logs under its prefix, for that
bucket of this account only; the `s3.BucketLogging` of each source is created here, after that policy,
since S3 checks it may write when logging is switched on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.bucket import PrivateBucket, PrivateBucketArgs
from helpers.bucket_policies import (
    LEGACY_ELB_LOG_REGIONS, bucket_policy, elb_log_delivery_statements, s3_server_access_log_statement,
)
from stackconfig.edge import AccessLogsConfig

# Versions of log files (a log is never overwritten; only expiry creates them) go one day later.
NONCURRENT_LOG_DAYS = 1


@dataclass(frozen=True)
class ServerAccessLogSource:
    """A bucket whose S3 server access logs land here, under `prefix` (e.g. "media/")."""
    name: str
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    prefix: str


@dataclass(frozen=True)
class AccessLogsArgs:
    # `force_destroy`: `pulumi destroy` empties the bucket (outside prod).
    settings: AccessLogsConfig
    region: str
    account_id: pulumi.Input[str]
    server_access_log_sources: Sequence[ServerAccessLogSource] = field(default_factory=tuple)


class AccessLogs(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    prefix: str

    def __init__(self, name: str, args: AccessLogsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:access_logs:AccessLogs", name, None, opts)
        self.prefix = args.settings.prefix

        self.bucket = PrivateBucket(f"{name}-bucket", PrivateBucketArgs(
            lifecycle_rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-access-logs",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.settings.expiry_days),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=NONCURRENT_LOG_DAYS
                ),
                abort_incomplete_multipart_upload=(
                    aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(days_after_initiation=1)
                ),
            )],
            force_destroy=args.settings.force_destroy,
        ), opts=pulumi.ResourceOptions(parent=self))

        legacy_accounts: list[pulumi.Input[str]] = []
        if args.region in LEGACY_ELB_LOG_REGIONS:
            legacy_accounts.append(
                aws.elb.get_service_account_output(opts=pulumi.InvokeOutputOptions(parent=self)).arn
            )
        sources = list(args.server_access_log_sources)
        self.policy = self.bucket.attach_policy(
            f"{name}-policy",
            pulumi.Output.all(self.bucket.arn, args.account_id, [s.bucket_arn for s in sources], legacy_accounts).apply(
                lambda values: bucket_policy(values[0], [
                    *elb_log_delivery_statements(values[0], self.prefix, values[1], values[3]),
                    *(s3_server_access_log_statement(values[0], source.prefix, source_arn, values[1])
                      for source, source_arn in zip(sources, values[2])),
                ])
            ),
            parent=self,
        )

        # Resolves only once the policy exists: a load balancer given this name waits for the policy,
        # as AWS checks that it may write to the bucket when access logs are switched on.
        self.bucket_name = pulumi.Output.all(self.bucket.bucket_name, self.policy.id).apply(lambda values: values[0])
        for source in sources:
            aws.s3.BucketLogging(
                f"{source.name}-server-access-logs",
                bucket=source.bucket_name,
                target_bucket=self.bucket_name,
                target_prefix=source.prefix,
                # Keys by the date the events happened (`<prefix><account>/<region>/<bucket>/YYYY/MM/DD/...`), so
                # Athena can partition on them.
                target_object_key_format=aws.s3.BucketLoggingTargetObjectKeyFormatArgs(
                    partitioned_prefix=aws.s3.BucketLoggingTargetObjectKeyFormatPartitionedPrefixArgs(
                        partition_date_source="EventTime",
                    ),
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"bucketName": self.bucket_name, "prefix": self.prefix})
