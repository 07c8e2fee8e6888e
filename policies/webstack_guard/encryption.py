"""Encryption at rest and in transit."""

from __future__ import annotations

from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import (
    ADVISORY,
    MANDATORY,
    BUCKET_ENCRYPTION,
    BUCKETS,
    CACHE_CLUSTER,
    KMS_KEY,
    LISTENER_RULES,
    LISTENERS,
    LOAD_BALANCERS,
    RDS_CLUSTER,
    RDS_INSTANCE,
    RDS_PROXY,
    REPLICATION_GROUP,
    SNS_TOPIC,
    SQS_QUEUE,
    StackChecker,
    as_list,
    fix,
    plain,
    present,
    truthy,
)


# ELB policies that offer only TLS 1.2 and 1.3 (AWS "TLS13-1-2-*", "TLS-1-2-*" and FIPS variants).
MODERN_TLS_POLICY_PREFIXES = ("ELBSecurityPolicy-TLS13-1-2-", "ELBSecurityPolicy-TLS13-1-3-",
                              "ELBSecurityPolicy-TLS-1-2-", "ELBSecurityPolicy-FS-1-2-")


def _rds_storage_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (RDS_INSTANCE, RDS_CLUSTER) or present(args.props, "replicateSourceDb"):
        return
    if not truthy(args.props.get("storageEncrypted")):
        report(fix("Database storage is not encrypted (storageEncrypted is not true).",
                   "set storage_encrypted=True (optionally kms_key_id); an existing database must be restored "
                   "from an encrypted snapshot copy."))


rds_storage_encrypted = ResourceValidationPolicy(
    name="rds-storage-encrypted",
    description="RDS storage must be encrypted at rest.",
    validate=_rds_storage_encrypted,
    enforcement_level=MANDATORY,
)


def _elasticache_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == CACHE_CLUSTER and not present(props, "replicationGroupId"):
        engine = str(props.get("engine") or "").lower()
        if engine in ("redis", "valkey"):
            report(fix("A standalone Redis cache cluster cannot encrypt at rest nor require AUTH.",
                       "use an aws.elasticache.ReplicationGroup with at_rest_encryption_enabled and "
                       "transit_encryption_enabled."))
        elif engine == "memcached" and not truthy(props.get("transitEncryptionEnabled")):
            report(fix("The Memcached cluster accepts unencrypted connections (Memcached has no AUTH either, so "
                       "anyone reaching the port reads the cache).",
                       "set transit_encryption_enabled=True (Memcached 1.6.12+ in a VPC), or use a Redis/Valkey "
                       "aws.elasticache.ReplicationGroup with encryption and AUTH."))
        return
    if args.resource_type != REPLICATION_GROUP:
        return
    if not truthy(props.get("atRestEncryptionEnabled")):
        report(fix("The cache is not encrypted at rest.", "set at_rest_encryption_enabled=True."))
    if not truthy(props.get("transitEncryptionEnabled")):
        report(fix("The cache accepts unencrypted connections.", "set transit_encryption_enabled=True."))
    elif str(props.get("transitEncryptionMode") or "required").lower() == "preferred":
        report(fix("transitEncryptionMode=preferred still accepts plaintext clients.",
                   "set transit_encryption_mode='required' once clients use TLS."))


elasticache_encrypted = ResourceValidationPolicy(
    name="elasticache-encrypted",
    description="ElastiCache must be encrypted at rest and require TLS in transit.",
    validate=_elasticache_encrypted,
    enforcement_level=MANDATORY,
)


def _listener_modern_tls(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in LISTENERS:
        return
    protocol = str(args.props.get("protocol") or ("HTTPS" if present(args.props, "certificateArn") else "")).upper()
    if protocol not in ("HTTPS", "TLS"):
        return
    policy = str(args.props.get("sslPolicy") or "")
    if not policy.startswith(MODERN_TLS_POLICY_PREFIXES):
        report(fix(f"The {protocol} listener uses TLS policy '{policy or 'the ELB default'}', which allows "
                   "protocols older than TLS 1.2.",
                   "set ssl_policy='ELBSecurityPolicy-TLS13-1-2-2021-06' (or a TLS13-1-2-*/TLS-1-2-* policy)."))
    if not present(args.props, "certificateArn"):
        report(fix(f"The {protocol} listener has no certificate.", "set certificate_arn to an ACM certificate."))


listener_modern_tls = ResourceValidationPolicy(
    name="alb-listener-modern-tls",
    description="HTTPS/TLS listeners must use a certificate and a TLS 1.2+/1.3 security policy.",
    validate=_listener_modern_tls,
    enforcement_level=MANDATORY,
)


def _redirects_to_https(action) -> bool:
    redirect = action.get("redirect") or {}
    return str(action.get("type", "")).lower() == "redirect" and str(redirect.get("protocol", "")).upper() == "HTTPS"


def _http_redirects_to_https(args: StackValidationArgs, report: ReportViolation) -> None:
    checker = StackChecker(args, report)
    http_listeners = []
    load_balancers = checker.of_type(LOAD_BALANCERS)
    for listener in checker.of_type(LISTENERS):
        props = checker.attempt(listener, lambda: {k: plain(listener.props.get(k)) for k in ("protocol", "defaultActions")})
        if props is None:
            continue
        protocol = str(props.get("protocol") or "").upper()
        if not protocol and not present(listener.props, "certificateArn"):
            # No protocol: an application load balancer listens in plain HTTP (the AWS default).
            owners = checker.linked(listener, load_balancers, "loadBalancerArn")
            types = {checker.attempt(lb, lambda: str(lb.props.get("loadBalancerType") or "application"), "application")
                     for lb in owners}
            protocol = "HTTP" if not owners or "application" in types else ""
        if protocol != "HTTP":
            continue
        http_listeners.append(listener)
        if not all(_redirects_to_https(action) for action in as_list(props.get("defaultActions"))):
            checker.violation(listener, fix(
                "The HTTP listener serves traffic instead of redirecting it to HTTPS.",
                "give it a single default action type='redirect' with redirect protocol='HTTPS', port='443', "
                "status_code='HTTP_301'.",
            ))
    for rule in checker.of_type(LISTENER_RULES):
        if not checker.linked(rule, http_listeners, "listenerArn"):
            continue
        actions = checker.attempt(rule, lambda: plain(rule.props.get("actions")), [])
        if not all(_redirects_to_https(action) for action in as_list(actions)):
            checker.violation(rule, fix("A rule on the HTTP listener forwards plaintext traffic.",
                                        "attach routing rules to the HTTPS listener only."))
    checker.finish()


http_redirects_to_https = StackValidationPolicy(
    name="alb-http-redirects-to-https",
    description="HTTP listeners (and their rules) may only redirect to HTTPS.",
    validate=_http_redirects_to_https,
    enforcement_level=MANDATORY,
)


def _alb_drops_invalid_headers(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in LOAD_BALANCERS:
        return
    if str(args.props.get("loadBalancerType") or "application") != "application":
        return
    if not truthy(args.props.get("dropInvalidHeaderFields")):
        report(fix("The load balancer forwards requests with invalid HTTP header fields (request smuggling).",
                   "set drop_invalid_header_fields=True."))


alb_drop_invalid_headers = ResourceValidationPolicy(
    name="alb-drop-invalid-headers",
    description="Application load balancers must drop invalid HTTP header fields.",
    validate=_alb_drops_invalid_headers,
    enforcement_level=MANDATORY,
)


def _rds_proxy_tls(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == RDS_PROXY and not truthy(args.props.get("requireTls")):
        report(fix("The RDS proxy accepts unencrypted client connections.", "set require_tls=True."))


rds_proxy_require_tls = ResourceValidationPolicy(
    name="rds-proxy-require-tls",
    description="RDS proxies must require TLS from clients.",
    validate=_rds_proxy_tls,
    enforcement_level=MANDATORY,
)


def _kms_rotation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != KMS_KEY:
        return
    symmetric = str(args.props.get("customerMasterKeySpec") or "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
    # Keys in a custom key store (CloudHSM or external) cannot rotate automatically; AWS refuses it.
    if symmetric and not present(args.props, "customKeyStoreId") and not truthy(args.props.get("enableKeyRotation")):
        report(fix("The KMS key does not rotate.", "set enable_key_rotation=True."))


kms_key_rotation = ResourceValidationPolicy(
    name="kms-key-rotation",
    description="Symmetric KMS keys must have automatic rotation enabled.",
    validate=_kms_rotation,
    enforcement_level=MANDATORY,
)


def _sns_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == SNS_TOPIC and not present(args.props, "kmsMasterKeyId"):
        report(fix("The topic is not encrypted at rest.",
                   "set kms_master_key_id to a customer managed key whose policy lets CloudWatch use it "
                   "(the AWS managed alias/aws/sns key cannot receive CloudWatch alarms)."))


sns_topic_encrypted = ResourceValidationPolicy(
    name="sns-topic-encrypted",
    description="SNS topics should be encrypted with a KMS key.",
    validate=_sns_encrypted,
    enforcement_level=ADVISORY,
)


def _inline_encryption(bucket) -> bool:
    props = bucket.props
    inline = as_list(props.get("serverSideEncryptionConfigurations")) + as_list(props.get("serverSideEncryptionConfiguration"))
    return any(as_list(config.get("rules")) or config.get("rule") for config in inline if isinstance(config, dict))


def _s3_default_encryption(args: StackValidationArgs, report: ReportViolation) -> None:
    checker = StackChecker(args, report)
    require_kms = bool(checker.config.get("requireKms"))
    configurations = checker.of_type(BUCKET_ENCRYPTION)
    for bucket in checker.of_type(BUCKETS):
        linked = checker.linking_to(bucket, configurations, "bucket")
        if not linked and not checker.attempt(bucket, lambda: _inline_encryption(bucket), True):
            checker.violation(bucket, fix("The bucket has no default encryption configuration.",
                                          "add an aws.s3.BucketServerSideEncryptionConfiguration for it "
                                          "(aws:kms with bucket_key_enabled, or AES256)."))
            continue
        for configuration in linked:
            rules = checker.attempt(configuration, lambda: plain(configuration.props.get("rules")), []) or []
            algorithms = {str((r.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm")) for r in rules}
            if require_kms and not algorithms & {"aws:kms", "aws:kms:dsse"}:
                checker.violation(bucket, fix("The bucket's default encryption does not use KMS.",
                                              "set sse_algorithm='aws:kms' with a customer managed key."))
    checker.finish()


s3_default_encryption = StackValidationPolicy(
    name="s3-default-encryption",
    description="S3 buckets must declare default server-side encryption.",
    validate=_s3_default_encryption,
    enforcement_level=MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "requireKms": {"type": "boolean", "default": False, "description": "Require aws:kms rather than AES256."},
    }),
)


def _sqs_queue_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != SQS_QUEUE:
        return
    if truthy(args.props.get("sqsManagedSseEnabled")) or present(args.props, "kmsMasterKeyId"):
        return
    report(fix("The SQS queue does not encrypt its messages at rest (neither sqsManagedSseEnabled nor "
               "kmsMasterKeyId is set).",
               "set sqs_managed_sse_enabled=True (SSE-SQS, no cost) or kms_master_key_id to a customer managed key "
               "(webstack:queues.<name>.encryption: sqs or kms); the change applies in place."))


sqs_queue_encrypted = ResourceValidationPolicy(
    name="sqs-queue-encrypted",
    description="SQS queues (work queues and dead-letter queues) must encrypt messages at rest: SSE-SQS or KMS.",
    validate=_sqs_queue_encrypted,
    enforcement_level=MANDATORY,
)


POLICIES = [
    rds_storage_encrypted,
    elasticache_encrypted,
    listener_modern_tls,
    http_redirects_to_https,
    alb_drop_invalid_headers,
    rds_proxy_require_tls,
    kms_key_rotation,
    sns_topic_encrypted,
    s3_default_encryption,
    sqs_queue_encrypted,
]
