"""S3 buckets and ECR repositories: never public, TLS only, versioned, scanned, immutable."""

from __future__ import annotations

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .documents import parse_document
from .common import (
    MANDATORY,
    UNKNOWN,
    BUCKET_POLICY,
    BUCKET_PUBLIC_ACCESS_BLOCK,
    BUCKET_VERSIONING,
    BUCKETS,
    ECR_REPOSITORY,
    StackChecker,
    as_list,
    fix,
    json_document,
    plain,
    truthy,
)

PUBLIC_ACCESS_SETTINGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _public_access_blocked(args: StackValidationArgs, report: ReportViolation) -> None:
    checker = StackChecker(args, report)
    blocks = checker.of_type(BUCKET_PUBLIC_ACCESS_BLOCK)
    for bucket in checker.of_type(BUCKETS):
        linked = checker.linking_to(bucket, blocks, "bucket")
        if not linked:
            checker.violation(bucket, fix("The bucket has no public access block.",
                                          "add an aws.s3.BucketPublicAccessBlock with all four settings true."))
        for block in linked:
            off = [s for s in PUBLIC_ACCESS_SETTINGS if not checker.attempt(block, lambda: truthy(block.props.get(s)), True)]
            if off:
                checker.violation(block, fix(f"The public access block leaves {off} off.",
                                             "set all four settings to True."))
    checker.finish()


s3_public_access_blocked = StackValidationPolicy(
    name="s3-public-access-blocked",
    description="Every S3 bucket must have a public access block with all four settings on.",
    validate=_public_access_blocked,
    enforcement_level=MANDATORY,
)


PUBLIC_CANNED_ACLS = ("public-read", "public-read-write", "authenticated-read")
PUBLIC_GRANTEE_URIS = ("http://acs.amazonaws.com/groups/global/AllUsers",
                       "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
BUCKET_ACLS = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
BUCKET_OBJECTS = ("aws:s3/bucketObject:BucketObject", "aws:s3/bucketObjectv2:BucketObjectv2")


def public_statements(document) -> list[str]:
    """Sids (or positions) of the Allow statements that open a bucket policy to everyone."""
    return [statement.label for statement in parse_document(document) or [] if statement.lets_everyone_in]


def _s3_no_public_grants(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (*BUCKETS, *BUCKET_ACLS, *BUCKET_OBJECTS, BUCKET_POLICY):
        return
    props = args.props
    acl = str(props.get("acl") or "") if args.resource_type != BUCKET_POLICY else ""
    if acl in PUBLIC_CANNED_ACLS:
        report(fix(f"The canned ACL '{acl}' lets anyone (or any AWS account) read.",
                   "use acl='private' (or no ACL: keep object ownership BucketOwnerEnforced); serve public "
                   "content through CloudFront with origin access control."))
    grants = as_list(props.get("grants")) if args.resource_type in BUCKETS else []
    if args.resource_type in BUCKET_ACLS:
        grants = [grant.get("grantee") or {} for grant in as_list((props.get("accessControlPolicy") or {}).get("grants"))]
    public_grantees = sorted({str(g.get("uri")) for g in grants if str(g.get("uri") or "") in PUBLIC_GRANTEE_URIS})
    if public_grantees:
        report(fix(f"The ACL grants access to {', '.join(public_grantees)}.",
                   "drop the AllUsers/AuthenticatedUsers grants and keep object ownership BucketOwnerEnforced."))
    if args.resource_type in (*BUCKETS, BUCKET_POLICY):
        statements = public_statements(plain(props.get("policy")))
        if statements:
            report(fix(f"The bucket policy allows everyone (Principal '*' or NotPrincipal, without an account, "
                       f"organisation, VPC endpoint or source condition): statement(s) {statements}.",
                       "name the principals (roles, or a service principal with an aws:SourceArn condition such as "
                       "CloudFront origin access control); use Principal '*' only in Deny statements."))


s3_no_public_grants = ResourceValidationPolicy(
    name="s3-no-public-grants",
    description="S3 buckets and objects must grant nothing to everyone: no public canned ACL or AllUsers/"
                "AuthenticatedUsers grant, no bucket policy allowing Principal '*' (or NotPrincipal) unconditionally.",
    validate=_s3_no_public_grants,
    enforcement_level=MANDATORY,
)


def _denies_insecure_transport(document) -> bool:
    return any(statement.effect == "Deny" and any(
        c.operator == "Bool" and c.key.lower() == "aws:securetransport" and tuple(v.lower() for v in c.values) == ("false",)
        for c in statement.conditions) for statement in parse_document(document) or [])


def _tls_only(args: StackValidationArgs, report: ReportViolation) -> None:
    checker = StackChecker(args, report)
    policies = checker.of_type(BUCKET_POLICY)
    for bucket in checker.of_type(BUCKETS):
        documents = [checker.attempt(p, lambda: json_document(p.props.get("policy")), UNKNOWN) for p in
                     checker.linking_to(bucket, policies, "bucket")]
        documents.append(checker.attempt(bucket, lambda: json_document(bucket.props.get("policy")), UNKNOWN))
        if UNKNOWN in documents:
            continue
        if not any(_denies_insecure_transport(d) for d in documents):
            checker.violation(bucket, fix("The bucket accepts requests over plain HTTP.",
                                          "add a bucket policy statement Deny s3:* on the bucket and its objects "
                                          "when aws:SecureTransport is false."))
    checker.finish()


s3_tls_only = StackValidationPolicy(
    name="s3-tls-only",
    description="S3 buckets must deny requests that do not use TLS (aws:SecureTransport).",
    validate=_tls_only,
    enforcement_level=MANDATORY,
)


def _versioning(args: StackValidationArgs, report: ReportViolation) -> None:
    checker = StackChecker(args, report)
    versionings = checker.of_type(BUCKET_VERSIONING)
    for bucket in checker.of_type(BUCKETS):
        statuses = [checker.attempt(v, lambda: (plain(v.props.get("versioningConfiguration")) or {}).get("status"), UNKNOWN)
                    for v in checker.linking_to(bucket, versionings, "bucket")]
        inline = checker.attempt(bucket, lambda: as_list(plain(bucket.props.get("versioning")))
                                 + as_list(plain(bucket.props.get("versionings"))), UNKNOWN)
        if UNKNOWN in statuses or inline is UNKNOWN:
            continue
        if "Enabled" not in statuses and not any(truthy(v.get("enabled")) for v in inline if isinstance(v, dict)):
            checker.violation(bucket, fix("The bucket keeps no object versions: an overwrite or delete is final.",
                                          "add an aws.s3.BucketVersioning with status 'Enabled' (and a lifecycle "
                                          "rule expiring noncurrent versions)."))
    checker.finish()


s3_versioning = StackValidationPolicy(
    name="s3-versioning",
    description="S3 buckets must have versioning enabled.",
    validate=_versioning,
    enforcement_level=MANDATORY,
)


def _ecr_hygiene(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ECR_REPOSITORY:
        return
    if str(args.props.get("imageTagMutability") or "MUTABLE").upper().startswith("MUTABLE"):
        report(fix("Image tags can be overwritten, so a deployed tag may change under a running service.",
                   "set image_tag_mutability='IMMUTABLE' and tag images with the git SHA."))
    scanning = args.props.get("imageScanningConfiguration") or {}
    if not truthy(scanning.get("scanOnPush")):
        report(fix("Images are not scanned for vulnerabilities on push.",
                   "set image_scanning_configuration={'scan_on_push': True}."))


ecr_immutable_scanned_images = ResourceValidationPolicy(
    name="ecr-immutable-scanned-images",
    description="ECR repositories must use immutable tags and scan images on push.",
    validate=_ecr_hygiene,
    enforcement_level=MANDATORY,
)

POLICIES = [s3_public_access_blocked, s3_no_public_grants, s3_tls_only, s3_versioning, ecr_immutable_scanned_images]
