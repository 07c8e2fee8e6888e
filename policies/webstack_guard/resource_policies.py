"""Resource-based policies (role trust, bucket, key, topic, queue, secret, registry ... policies): nobody from outside."""

from __future__ import annotations

from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs, StackValidationPolicy

from .common import BUCKET_POLICY, BUCKETS, IAM_ROLE, MANDATORY, StackChecker, fix, plain
from .documents import account_of, parse_document, outside_principals

# Resource type -> the property holding its resource-based policy document. VPC endpoint policies are not
# here: their `Principal: "*"` limits what passes the endpoint, it lets nobody in. SQS queue policies are
# sqs-queue-policy-account-only's (stricter: this account only).
RESOURCE_POLICY_PROPERTIES = {
    IAM_ROLE: "assumeRolePolicy",
    BUCKET_POLICY: "policy",
    **{bucket: "policy" for bucket in BUCKETS},
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "policy",
    "aws:ecr/registryPolicy:RegistryPolicy": "policy",
    "aws:kms/key:Key": "policy",
    "aws:kms/keyPolicy:KeyPolicy": "policy",
    "aws:sns/topic:Topic": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:secretsmanager/secret:Secret": "policy",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "policy",
    "aws:efs/fileSystemPolicy:FileSystemPolicy": "policy",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "policyDocument",
    "aws:backup/vaultPolicy:VaultPolicy": "policy",
    "aws:glacier/vaultLock:VaultLock": "policy",
}
# Bucket policies open to everyone are s3-no-public-grants' to report; here only other accounts.
BUCKET_POLICY_TYPES = (BUCKET_POLICY, *BUCKETS)
LAMBDA_PERMISSION = "aws:lambda/permission:Permission"
# The accounts Elastic Load Balancing writes access logs from (bucket policies name them; AWS docs, "Attach a
# policy to your S3 bucket"). Regions opened since August 2022 use the logdelivery service principal instead.
ELB_LOG_DELIVERY_ACCOUNTS = frozenset({
    "127311923021", "033677994240", "027434742980", "797873946194", "098369216593", "985666609251",
    "054676820928", "156460612806", "652711504416", "635631232127", "009996457667", "897822967062",
    "754344448648", "582318560864", "600734575887", "383597477331", "114774131450", "783225319266",
    "589379963580", "718504428378", "076674570225", "507241528517", "048591011584", "190560391635",
    "638102146993", "037604701340",
})


def _stack_accounts(checker: StackChecker) -> set[str]:
    """The accounts the stack's own resources live in (from whatever ARNs are known)."""
    accounts: set[str] = set()
    for resource in checker.resources:
        for value in checker.identities(resource):
            account = account_of(value)
            if account and account != "*":
                accounts.add(account)
    return accounts


def _resource_policies_no_outside_access(args: StackValidationArgs, report: ReportViolation) -> None:
    checker = StackChecker(args, report)
    trusted = set(checker.config.get("trustedAccountIds") or []) | ELB_LOG_DELIVERY_ACCOUNTS
    own = _stack_accounts(checker)
    for resource in checker.of_type(*RESOURCE_POLICY_PROPERTIES):
        key = RESOURCE_POLICY_PROPERTIES[resource.resource_type]
        statements = checker.attempt(resource, lambda: parse_document(plain(resource.props.get(key))))
        for statement in statements or []:
            named = {a for r in statement.resources for a in [account_of(r)] if a and a != "*"}
            outside = outside_principals(statement, own | named, trusted)
            if resource.resource_type in BUCKET_POLICY_TYPES:
                outside = [who for who in outside if not who.startswith("everyone")]
            if outside:
                what = "trust policy" if resource.resource_type == IAM_ROLE else "resource policy"
                checker.violation(resource, fix(
                    f"The {what} ({key}) statement {statement.label} lets {', '.join(outside)} in.",
                    "name the principals of this account (role ARNs) or an AWS service principal narrowed by "
                    "aws:SourceAccount/aws:SourceArn; for `*` add a condition on aws:PrincipalOrgID or "
                    "aws:SourceAccount; list a partner account you mean to trust under this policy's "
                    "`trustedAccountIds`."))
    for permission in checker.of_type(LAMBDA_PERMISSION):
        props = checker.attempt(permission, lambda: {k: plain(permission.props.get(k)) for k in (
            "principal", "sourceArn", "sourceAccount", "principalOrgId")})
        if props and str(props.get("principal")).strip() == "*" and not any(
                props.get(k) for k in ("sourceArn", "sourceAccount", "principalOrgId")):
            checker.violation(permission, fix(
                "The Lambda permission lets anyone (principal '*') invoke the function.",
                "name the service principal and set source_arn (or source_account / principal_org_id)."))
    checker.finish()


resource_policies_no_outside_access = StackValidationPolicy(
    name="resource-policies-no-outside-access",
    description="Resource-based policies (role trust, S3 bucket, ECR, KMS key, SNS topic, Secrets Manager, "
                "EFS, log and backup policies, Lambda permissions) must not let in everyone (`*`, {\"AWS\": \"*\"}, "
                "NotPrincipal) unless a condition narrows it to accounts, an organisation or a source, nor another "
                "account unless listed as trusted.",
    validate=_resource_policies_no_outside_access,
    enforcement_level=MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "trustedAccountIds": {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{12}$"}, "default": [],
                              "description": "Other AWS accounts resource policies may grant access to."},
    }),
)


POLICIES = [resource_policies_no_outside_access]
