"""Media bucket and ALB access-log bucket: private, encrypted, versioned, TLS only, least-privilege access."""

from __future__ import annotations

import json

import pytest

from components.access_logs import AccessLogs, AccessLogsArgs
from components.storage import MediaStorage, MediaStorageArgs
from helpers.bucket_policies import LEGACY_ELB_LOG_REGIONS, elb_log_delivery_statements, s3_server_access_log_statement
from preflight.capture import ProgramRun, run_in_mocks
from stackconfig.edge import AccessLogsConfig, StorageConfig
from tests.conftest import committed, container_definitions, run_stack

BUCKET = "aws:s3/bucket:Bucket"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ALL_BLOCKS = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
              "restrictPublicBuckets": True}


def for_bucket(run: ProgramRun, type_: str, bucket_name: str):
    return next(r for r in run.of_type(type_) if r.inputs["bucket"] == bucket_name)


def bucket_named(run: ProgramRun, resource_name: str):
    return next(r for r in run.of_type(BUCKET) if r.name == resource_name)


def assert_private_encrypted_versioned_tls_only(run: ProgramRun, bucket) -> dict:
    name, arn = bucket.outputs["bucket"], bucket.outputs["arn"]
    block = for_bucket(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name)
    assert {key: block.inputs[key] for key in ALL_BLOCKS} == ALL_BLOCKS
    ownership = for_bucket(run, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", name)
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    encryption = for_bucket(
        run, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", name
    )
    assert encryption.inputs["rules"] == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
    versioning = for_bucket(run, "aws:s3/bucketVersioning:BucketVersioning", name)
    assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
    policy_resource = for_bucket(run, POLICY, name)
    assert block.urn in policy_resource.dependencies
    policy = json.loads(policy_resource.inputs["policy"])
    deny = policy["Statement"][0]
    assert deny == {
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    return policy


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_media_bucket_controls_and_lifecycle(stack, dev_run, prod_run):
    run = {"dev": dev_run, "prod": prod_run}[stack]
    bucket = bucket_named(run, "media-bucket")
    policy = assert_private_encrypted_versioned_tls_only(run, bucket)
    assert len(policy["Statement"]) == 1  # nothing is granted by the bucket policy without a CDN
    [rule] = for_bucket(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                        bucket.outputs["bucket"]).inputs["rules"]
    assert rule["status"] == "Enabled" and rule["filter"] == {}
    assert rule["transitions"] == [{"days": 90, "storageClass": "GLACIER_IR"}]
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    # A prod bucket survives `pulumi destroy` and is never emptied by it; a dev bucket is disposable.
    assert bucket.protect is (stack == "prod")
    assert bucket.inputs["forceDestroy"] is (stack == "dev")
    assert run.outputs["mediaBucket"] == bucket.outputs["bucket"]


def test_only_services_that_use_the_bucket_get_access(prod_run):
    bucket = bucket_named(prod_run, "media-bucket")
    arn, name = bucket.outputs["arn"], bucket.outputs["bucket"]
    def bucket_statements(policy):
        return [statement for statement in json.loads(policy.inputs["policy"])["Statement"]
                if any(action.startswith("s3:") for action in statement["Action"])]

    # The task roles' own policies (bucket access, queues): only the backend's reaches the bucket.
    task_policies = {p.name: p for p in prod_run.of_type("aws:iam/rolePolicy:RolePolicy")
                     if p.name.endswith("-task-access")}
    assert [name for name, policy in task_policies.items() if bucket_statements(policy)] == ["backend-task-access"]
    backend_role = next(r for r in prod_run.of_type("aws:iam/role:Role") if r.name == "backend-task")
    assert task_policies["backend-task-access"].inputs["role"] == backend_role.id
    assert bucket_statements(task_policies["backend-task-access"]) == [
        {"Sid": "ListBucket", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": arn},
        {"Sid": "ObjectAccess", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": f"{arn}/*"},
    ]
    environment = {e["name"]: e["value"] for e in container_definitions(prod_run, "-backend")[0]["environment"]}
    assert environment["MEDIA_BUCKET"] == environment["AWS_STORAGE_BUCKET_NAME"] == name
    assert environment["AWS_S3_REGION_NAME"] == "us-east-1"
    frontend = {e["name"] for e in container_definitions(prod_run, "-frontend")[0]["environment"]}
    assert not frontend & {"MEDIA_BUCKET", "AWS_STORAGE_BUCKET_NAME"}


def test_readonly_access_and_storage_requires_a_bucket():
    def frontend_reads(config):
        config["webstack:services"]["frontend"]["storage"] = "readonly"

    run = run_stack("dev", frontend_reads)
    policy = next(p for p in run.of_type("aws:iam/rolePolicy:RolePolicy") if p.name == "frontend-task-access")
    assert [s["Action"] for s in json.loads(policy.inputs["policy"])["Statement"]] == [
        ["s3:ListBucket"], ["s3:GetObject"]
    ]

    def no_bucket(config):
        del config["webstack:storage"]

    with pytest.raises(Exception, match="webstack:services.backend.storage = \"readwrite\": the stack has no media bucket"):
        run_stack("dev", no_bucket)


def test_cdn_reads_through_origin_access_control_only():
    def build():
        MediaStorage("assets", MediaStorageArgs(settings=StorageConfig(cdn=True), region="eu-west-1"))

    run = run_in_mocks(build, config={"aws:region": "eu-west-1"})
    bucket = run.one(BUCKET)
    distribution = run.one("aws:cloudfront/distribution:Distribution")
    access_control = run.one("aws:cloudfront/originAccessControl:OriginAccessControl")
    assert access_control.inputs["originAccessControlOriginType"] == "s3"
    assert access_control.inputs["signingBehavior"] == "always"
    [origin] = distribution.inputs["origins"]
    assert origin["domainName"] == bucket.outputs["bucketRegionalDomainName"]
    assert origin["originAccessControlId"] == access_control.id
    assert distribution.inputs["defaultCacheBehavior"]["viewerProtocolPolicy"] == "redirect-to-https"
    policy = assert_private_encrypted_versioned_tls_only(run, bucket)
    assert policy["Statement"][1] == {
        "Sid": "CloudFrontRead", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject", "Resource": f"{bucket.outputs['arn']}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution.outputs["arn"]}},
    }


def test_no_media_cdn_by_default(any_run):
    # Lean's one distribution is its static frontend's (tests/test_static_frontend.py), not the media bucket's.
    distributions = any_run.of_type("aws:cloudfront/distribution:Distribution")
    assert [d.name for d in distributions] == (["frontend-cdn"] if committed(any_run, "frontend") else [])


def test_prod_access_logs_bucket_policy_and_load_balancer(prod_run):
    bucket = bucket_named(prod_run, "alb-logs-bucket")
    policy = assert_private_encrypted_versioned_tls_only(prod_run, bucket)
    logs = f"{bucket.outputs['arn']}/alb/AWSLogs/123456789012/*"
    # Then the media bucket's server access logs (below).
    assert policy["Statement"][1:3] == [
        {"Sid": "ElbLogDelivery", "Effect": "Allow",
         "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": logs},
        {"Sid": "ElbLogDeliveryRegionalAccount", "Effect": "Allow",
         "Principal": {"AWS": ["arn:aws:iam::127311923021:root"]}, "Action": "s3:PutObject", "Resource": logs},
    ]
    [rule] = for_bucket(prod_run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                        bucket.outputs["bucket"]).inputs["rules"]
    assert rule["expiration"] == {"days": 90}
    alb = prod_run.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["accessLogs"] == {"enabled": True, "bucket": bucket.outputs["bucket"], "prefix": "alb"}
    assert for_bucket(prod_run, POLICY, bucket.outputs["bucket"]).urn in alb.dependencies


def test_dev_has_no_access_logs_unless_asked(dev_run):
    assert "accessLogs" not in dev_run.one("aws:lb/loadBalancer:LoadBalancer").inputs

    def enable(config):
        config["webstack:accessLogs"] = {"enabled": True, "expiryDays": 14, "prefix": "web/alb"}

    run = run_stack("dev", enable)
    alb = run.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["accessLogs"]["prefix"] == "web/alb"
    assert bucket_named(run, "alb-logs-bucket").inputs["forceDestroy"] is True


def test_newer_regions_grant_only_the_log_delivery_service():
    def build():
        AccessLogs("logs", AccessLogsArgs(settings=AccessLogsConfig(expiry_days=30), region="ap-southeast-4",
                                          account_id="123456789012"))

    run = run_in_mocks(build, config={"aws:region": "ap-southeast-4"})
    statements = json.loads(run.one(POLICY).inputs["policy"])["Statement"]
    assert [s["Principal"] for s in statements[1:]] == [
        {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    ]


def test_legacy_elb_regions_are_the_ones_with_an_elb_account():
    """The regions `elb.getServiceAccount` answers for (the provider's table, AWS's "before August 2022" list)."""
    assert LEGACY_ELB_LOG_REGIONS == {
        "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
        "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ca-central-1", "cn-north-1", "cn-northwest-1",
        "eu-central-1", "eu-north-1", "eu-south-1", "eu-west-1", "eu-west-2", "eu-west-3", "me-south-1",
        "sa-east-1", "us-east-1", "us-east-2", "us-gov-east-1", "us-gov-west-1", "us-west-1", "us-west-2",
    }

    def build():
        AccessLogs("logs", AccessLogsArgs(settings=AccessLogsConfig(expiry_days=30), region="ap-southeast-3",
                                          account_id="123456789012"))

    run = run_in_mocks(build, config={"aws:region": "ap-southeast-3"})
    statements = json.loads(run.one(POLICY).inputs["policy"])["Statement"]
    assert [s["Sid"] for s in statements[1:]] == ["ElbLogDelivery", "ElbLogDeliveryRegionalAccount"]


def test_log_delivery_statements_are_scoped_to_the_account_prefix():
    [statement] = elb_log_delivery_statements("arn:aws:s3:::logs", "p", "210987654321")
    assert statement["Resource"] == "arn:aws:s3:::logs/p/AWSLogs/210987654321/*"
    assert statement["Action"] == "s3:PutObject"


# --- the media bucket's S3 server access logs -----------------------------------------------------------------

BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"


def log_bucket_statements(run: ProgramRun) -> list[dict]:
    policy = next(r for r in run.of_type(POLICY) if r.name == "alb-logs-policy")
    return json.loads(policy.inputs["policy"])["Statement"]


@pytest.mark.parametrize("stack", ["prod", "lean", "scale"])
def test_media_bucket_logs_its_requests_to_the_access_log_bucket(stack, request):
    run = request.getfixturevalue(f"{stack}_run")
    media, logs = bucket_named(run, "media-bucket"), bucket_named(run, "alb-logs-bucket")
    logging = run.one(BUCKET_LOGGING)
    assert logging.inputs["bucket"] == media.outputs["bucket"]
    assert logging.inputs["targetBucket"] == logs.outputs["bucket"]
    assert logging.inputs["targetPrefix"] == "media/"
    assert logging.inputs["targetObjectKeyFormat"] == {"partitionedPrefix": {"partitionDateSource": "EventTime"}}
    # Switched on only once the log bucket's policy lets S3 write (S3 checks when logging is set).
    assert any(urn.endswith("::alb-logs-policy") for urn in logging.property_dependencies["targetBucket"])
    (statement,) = [s for s in log_bucket_statements(run) if s["Principal"] == {"Service": "logging.s3.amazonaws.com"}]
    assert statement == {
        "Sid": "S3ServerAccessLogsMedia", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": f"{logs.outputs['arn']}/media/*",
        "Condition": {"ArnLike": {"aws:SourceArn": media.outputs["arn"]},
                      "StringEquals": {"aws:SourceAccount": "123456789012"}},
    }


def test_dev_media_bucket_has_no_server_access_logs(dev_run):
    assert dev_run.of_type(BUCKET_LOGGING) == []


def test_dev_gets_them_with_the_log_bucket():
    def with_logs(config):
        config["webstack:accessLogs"] = {"enabled": True}
        config["webstack:storage"] = {"accessLogsPrefix": "s3/media/"}
    run = run_stack("dev", with_logs)
    assert run.one(BUCKET_LOGGING).inputs["targetPrefix"] == "s3/media/"
    assert [s["Resource"] for s in log_bucket_statements(run) if s["Sid"].startswith("S3ServerAccessLogs")] == [
        f"{bucket_named(run, 'alb-logs-bucket').outputs['arn']}/s3/media/*"]


def test_server_access_log_statement_names_the_source_bucket_and_account():
    statement = s3_server_access_log_statement("arn:aws:s3:::logs", "uploads/raw/", "arn:aws:s3:::media", "111122223333")
    assert statement["Sid"] == "S3ServerAccessLogsUploadsRaw"
    assert statement["Resource"] == "arn:aws:s3:::logs/uploads/raw/*"
    assert statement["Condition"] == {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::media"},
                                      "StringEquals": {"aws:SourceAccount": "111122223333"}}


def test_bucket_logging_passes_put_bucket_logging(prod_run):
    from tests.test_aws_models import validate
    logging = prod_run.one(BUCKET_LOGGING).inputs
    validate("s3", "PutBucketLogging", {"Bucket": logging["bucket"], "BucketLoggingStatus": {"LoggingEnabled": {
        "TargetBucket": logging["targetBucket"], "TargetPrefix": logging["targetPrefix"],
        "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}}}}})
