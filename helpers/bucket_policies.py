"""IAM and bucket policy statements for S3. Pure, so every statement is tested without Pulumi."""

from __future__ import annotations

import json
import re
from typing import Iterable, Sequence

OBJECT_ACTIONS = {
    "readwrite": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
    "readonly": ["s3:GetObject"],
}

# Regions whose Elastic Load Balancing log delivery writes as a regional ELB account: exactly the regions
# `elb.getServiceAccount` knows (it fails elsewhere), Jakarta (ap-southeast-3, 589379963580) included.
# Regions opened later only know the `logdelivery.elasticloadbalancing.amazonaws.com` principal.
LEGACY_ELB_LOG_REGIONS = frozenset({
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ca-central-1",
    "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-north-1",
    "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
    "ap-southeast-3", "ap-south-1", "me-south-1", "sa-east-1", "us-gov-west-1", "us-gov-east-1", "cn-north-1", "cn-northwest-1",
})
ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"


def deny_insecure_transport(bucket_arn: str) -> dict:
    """Refuse every request that does not arrive over TLS, on the bucket and on its objects."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def bucket_policy(bucket_arn: str, statements: Iterable[dict]) -> str:
    """A bucket policy: the TLS-only deny first, then the bucket's grants."""
    return json.dumps({"Version": "2012-10-17", "Statement": [deny_insecure_transport(bucket_arn), *statements]})


def task_access_statements(bucket_arn: str, access: str) -> list[dict]:
    """What a service's task role may do on one bucket: list it, and read (or read/write/delete) its objects."""
    return [
        {"Sid": "ListBucket", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": bucket_arn},
        {"Sid": "ObjectAccess", "Effect": "Allow", "Action": OBJECT_ACTIONS[access], "Resource": f"{bucket_arn}/*"},
    ]


def cloudfront_read_statement(bucket_arn: str, distribution_arn: str) -> dict:
    """Origin access control: only this distribution, signing as CloudFront, may read objects."""
    return {
        "Sid": "CloudFrontRead",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": f"{bucket_arn}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
    }


def cloudfront_list_statement(bucket_arn: str, distribution_arn: str) -> dict:
    """The same distribution may list the bucket, so S3 answers a missing file with 404 (not 403)."""
    return {
        "Sid": "CloudFrontList",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:ListBucket",
        "Resource": bucket_arn,
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
    }


def elb_log_delivery_statements(
    bucket_arn: str, prefix: str, account_id: str, legacy_elb_account_arns: Sequence[str] = ()
) -> list[dict]:
    """Elastic Load Balancing may write access logs under `<prefix>/AWSLogs/<account>/` and nowhere else.

    The service principal works in every region opened since August 2022; older regions deliver as
    a regional ELB account, so their ARN (from `elb.getServiceAccount`) is granted as well.
    """
    logs = f"{bucket_arn}/{prefix}/AWSLogs/{account_id}/*"
    statements = [{
        "Sid": "ElbLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": ELB_LOG_DELIVERY_SERVICE},
        "Action": "s3:PutObject",
        "Resource": logs,
    }]
    if legacy_elb_account_arns:
        statements.append({
            "Sid": "ElbLogDeliveryRegionalAccount",
            "Effect": "Allow",
            "Principal": {"AWS": list(legacy_elb_account_arns)},
            "Action": "s3:PutObject",
            "Resource": logs,
        })
    return statements


S3_LOG_DELIVERY_SERVICE = "logging.s3.amazonaws.com"


def s3_server_access_log_statement(log_bucket_arn: str, prefix: str, source_bucket_arn: str, account_id: str) -> dict:
    """S3 server access logging may write the source bucket's logs under `prefix`, for that bucket of this account
    only (AWS: "Permissions for log delivery", the bucket policy way that bucket-owner-enforced ACLs require)."""
    return {
        "Sid": "S3ServerAccessLogs" + "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", prefix) if part),
        "Effect": "Allow",
        "Principal": {"Service": S3_LOG_DELIVERY_SERVICE},
        "Action": "s3:PutObject",
        "Resource": f"{log_bucket_arn}/{prefix}*",
        "Condition": {
            "ArnLike": {"aws:SourceArn": source_bucket_arn},
            "StringEquals": {"aws:SourceAccount": account_id},
        },
    }
