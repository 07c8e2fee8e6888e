"""Least privilege: no wildcard actions, no wildcard resources for secret reads nor for workload roles, split task
roles."""

from __future__ import annotations

from fnmatch import fnmatchcase

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import (
    ADVISORY,
    ECS_SERVICE,
    MANDATORY,
    IAM_POLICY_DOCUMENT_HOLDERS,
    IAM_ROLE,
    SQS_QUEUE,
    SQS_QUEUE_POLICY,
    TASK_DEFINITION,
    StackChecker,
    as_list,
    fix,
    json_document,
    plain,
    truthy,
)
from .documents import Statement, allow_statements, is_every_resource
from .secrets import container_definitions

# Managed policies that grant everything (or everything in a service).
BROAD_MANAGED_POLICIES = ("/AdministratorAccess", "/PowerUserAccess", "/IAMFullAccess")
# Reads that hand out secret material: they must name the secrets/keys/parameters they read. An
# action pattern (`*`, `kms:*`, `secretsmanager:Get*`, `ssm:GetParam*`) counts when it matches one.
SECRET_READ_ACTIONS = ("secretsmanager:getsecretvalue", "secretsmanager:batchgetsecretvalue", "kms:decrypt",
                       "ssm:getparameter", "ssm:getparameters", "ssm:getparametersbypath", "ssm:getparameterhistory")
# Resources that attach managed policies to principals (the attachment's ARN property(ies)).
MANAGED_POLICY_ATTACHMENTS = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
    IAM_ROLE: "managedPolicyArns",
}


def policy_documents(args: ResourceValidationArgs) -> list[tuple[str, list[Statement]]]:
    """(label, Allow statements) for every permission policy a resource carries (not trust policies)."""
    documents = []
    if args.resource_type in IAM_POLICY_DOCUMENT_HOLDERS:
        documents.append((args.name, plain(args.props.get("policy"))))
    elif args.resource_type == IAM_ROLE:
        for inline in as_list(args.props.get("inlinePolicies")):
            documents.append((f"inline policy {inline.get('name')}", plain(inline.get("policy"))))
    return [(label, allow_statements(document)) for label, document in documents]


def _is_wildcard_action(action: str) -> bool:
    return action == "*" or action.endswith(":*")


def _no_wildcard_actions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    arn_property = MANAGED_POLICY_ATTACHMENTS.get(args.resource_type)
    if arn_property is not None:
        for arn in as_list(args.props.get(arn_property)):
            arn = str(arn or "")
            if arn.endswith(BROAD_MANAGED_POLICIES) or arn.endswith("FullAccess"):
                report(fix(f"The principal gets the managed policy {arn}, which allows every action of a service "
                           "(or all).",
                           "attach a policy that lists the actions the workload calls."))
    for label, statements in policy_documents(args):
        for statement in statements:
            if statement.not_actions is not None:
                report(fix(f"{label} allows everything except a list (Allow + NotAction).",
                           "list the allowed actions under Action instead."))
            wildcards = [a for a in statement.actions if _is_wildcard_action(a)]
            if wildcards:
                report(fix(f"{label} allows wildcard action(s) {wildcards}.",
                           "list the exact actions needed, e.g. 's3:GetObject' instead of 's3:*'."))


iam_no_wildcard_actions = ResourceValidationPolicy(
    name="iam-no-wildcard-actions",
    description="IAM policies must not allow `*` or `service:*` actions (nor NotAction, nor admin/full-access "
                "managed policies).",
    validate=_no_wildcard_actions,
    enforcement_level=MANDATORY,
)


def _is_every_secret(resource: str) -> bool:
    """`*`, or an ARN whose resource part is only a wildcard (every secret, key or parameter).

    `arn:aws:kms:us-east-1:123456789012:*`, `...:secret:*`, `...:key/*`, `...:parameter/*`, `arn:aws:*:*:*:*`
    and `arn:*` all count; `...:secret:prod/app-*` or `...:parameter/webstack/prod/*` name a subtree.
    """
    if len(resource.split(":", 5)) < 6:
        return "*" in resource
    return is_every_resource(resource, ("secret:", "key/", "alias/", "parameter/", "parameter"))


def _reads_secrets(actions) -> list[str]:
    """The action patterns of a statement that grant a secret read."""
    return sorted(pattern for pattern in {str(a).lower() for a in actions}
                  if any(fnmatchcase(read, pattern) for read in SECRET_READ_ACTIONS))


def _no_wildcard_secret_reads(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for label, statements in policy_documents(args):
        for statement in statements:
            # Only listed actions: Allow + NotAction is refused by iam-no-wildcard-actions.
            reads = _reads_secrets(statement.actions)
            if not reads:
                continue
            resources = statement.resources
            if statement.not_resources is not None:
                report(fix(f"{label} lets {reads} read every secret/key/parameter but a list (NotResource).",
                           "name the secret, KMS key and parameter ARNs the workload reads under Resource."))
            elif any(_is_every_secret(r) for r in resources):
                report(fix(f"{label} lets {reads} read every secret/key/parameter (Resource '*').",
                           "name the secret, KMS key and parameter ARNs the workload reads."))


iam_no_wildcard_secret_reads = ResourceValidationPolicy(
    name="iam-no-wildcard-secret-reads",
    description="Secret, parameter and KMS decrypt permissions must name their resources, never `*`.",
    validate=_no_wildcard_secret_reads,
    enforcement_level=MANDATORY,
)


# Services whose roles run the stack's workloads: ECS tasks, and what starts them on a schedule or an event.
WORKLOAD_PRINCIPALS = frozenset({"ecs-tasks.amazonaws.com", "scheduler.amazonaws.com", "events.amazonaws.com",
                                 "pipes.amazonaws.com"})
# Actions AWS documents without resource-level permissions (the Service Authorization Reference lists no
# resource type for them): they only take Resource "*". ECS Exec's channels, the registry login, metrics.
RESOURCE_LESS_ACTIONS = frozenset({
    "ssmmessages:createcontrolchannel", "ssmmessages:createdatachannel", "ssmmessages:opencontrolchannel",
    "ssmmessages:opendatachannel", "ecr:getauthorizationtoken", "cloudwatch:putmetricdata",
})
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def _is_every_resource(resource: str) -> bool:
    """`*`, or an ARN whose resource part is only wildcards (`arn:aws:sqs:us-east-1:123456789012:*`,
    `arn:aws:s3:::*`, `arn:aws:*:*:*:*`); `...:task-definition/app:*` or `...:task/cluster/*` name something."""
    parts = resource.split(":", 5)
    return resource.strip() == "*" or (len(parts) == 6 and parts[5].strip("*/:") == "")


def _trusted_services(role) -> set[str]:
    return {principal.value for statement in allow_statements(plain(role.props.get("assumeRolePolicy")))
            for principal in statement.principals if principal.is_service}


def _role_documents(checker: StackChecker, role, holders) -> list[tuple[object, str, object]]:
    """(resource to report on, label, document) for each permission policy of a role: inline and attached."""
    documents = [(role, f"inline policy {inline.get('name')}", inline.get("policy"))
                 for inline in checker.attempt(role, lambda: as_list(plain(role.props.get("inlinePolicies"))), [])]
    for holder in checker.linking_to(role, holders, "role"):
        documents.append((holder, holder.name, checker.attempt(holder, lambda: plain(holder.props.get("policy")))))
    return documents


def _workload_roles_scoped(args: StackValidationArgs, report: ReportViolation) -> None:
    checker = StackChecker(args, report)
    holders = checker.of_type(ROLE_POLICY)
    for role in checker.of_type(IAM_ROLE):
        principals = sorted(checker.attempt(role, lambda: _trusted_services(role), set()) & WORKLOAD_PRINCIPALS)
        if not principals:
            continue
        for resource, label, document in _role_documents(checker, role, holders):
            for statement in allow_statements(document):
                actions = list(statement.actions)
                if statement.not_resources is not None:
                    broad = "every resource but a list (NotResource)"
                else:
                    every = [r for r in statement.resources if _is_every_resource(r)]
                    if not every:
                        continue
                    broad = f"every resource (Resource {every[0]!r})"
                # Wildcard actions, secret reads and self-escalation are iam-no-wildcard-actions', -secret-reads'
                # and -privilege-escalation's to report.
                judged_elsewhere = set(_reads_secrets(actions)) | {a.lower() for a in actions if _escalates(a)}
                scoped = [a for a in actions if a.lower() not in RESOURCE_LESS_ACTIONS
                          and a.lower() not in judged_elsewhere and not _is_wildcard_action(a)]
                if not scoped:
                    continue
                checker.violation(resource, fix(
                    f"{label} lets role {role.name} (assumed by {', '.join(principals)}) use {scoped} on {broad}.",
                    "name the ARNs the workload uses (its queue, bucket, task definition family, the roles it passes); "
                    "only actions without resource-level permissions (ECS Exec's ssmmessages channels, "
                    "ecr:GetAuthorizationToken, cloudwatch:PutMetricData) may keep '*'.",
                ))
    checker.finish()


workload_roles_no_wildcard_resources = StackValidationPolicy(
    name="workload-roles-no-wildcard-resources",
    description="Roles of ECS tasks, schedules, event rules and pipes must name the resources they act on, never `*` "
                "(except for actions without resource-level permissions).",
    validate=_workload_roles_scoped,
    enforcement_level=MANDATORY,
)


# Actions that let a principal give itself (or a role it controls) more permissions: on every resource they
# are a way to administrator.
ESCALATION_ACTIONS = (
    "iam:PassRole", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:AttachRolePolicy",
    "iam:AttachUserPolicy", "iam:AttachGroupPolicy", "iam:PutRolePolicy", "iam:PutUserPolicy", "iam:PutGroupPolicy",
    "iam:UpdateAssumeRolePolicy", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile",
    "iam:AddUserToGroup", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary", "sts:AssumeRole",
)
# The resource kinds (after `arn:...:iam::<account>:`) the escalation actions apply to.
IAM_RESOURCE_KINDS = ("role/", "policy/", "user/", "group/")


def _escalates(pattern: str) -> bool:
    return any(fnmatchcase(action.lower(), pattern.lower()) for action in ESCALATION_ACTIONS)


def _no_privilege_escalation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for label, statements in policy_documents(args):
        for statement in statements:
            # Wildcard actions and NotAction are refused by iam-no-wildcard-actions; here the ones it lets pass.
            listed = [a for a in statement.actions if not _is_wildcard_action(a)]
            granted = sorted({action for action in ESCALATION_ACTIONS for pattern in listed
                              if fnmatchcase(action.lower(), pattern.lower())})
            if not granted:
                continue
            every = statement.not_resources is not None or any(
                is_every_resource(r, IAM_RESOURCE_KINDS) for r in statement.resources)
            if every:
                report(fix(f"{label} allows {granted} on every role/policy/user (Resource '*'): whoever holds it can "
                           "hand itself administrator rights.",
                           "name the exact role (or policy) ARNs, e.g. iam:PassRole on the task and execution roles "
                           "with an iam:PassedToService condition."))


iam_no_privilege_escalation = ResourceValidationPolicy(
    name="iam-no-privilege-escalation",
    description="IAM policies must not allow iam:PassRole, iam:CreatePolicyVersion, iam:Attach*/Put*Policy, "
                "sts:AssumeRole and the other self-escalation actions on every resource.",
    validate=_no_privilege_escalation,
    enforcement_level=MANDATORY,
)


def _distinct_roles(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TASK_DEFINITION:
        return
    execution, task = args.props.get("executionRoleArn"), args.props.get("taskRoleArn")
    if execution and task and execution == task:
        report(fix("The task's application code runs with the execution role (it can pull every image and "
                   "read every secret the task starts with).",
                   "give the task definition a separate task_role_arn with only the application's permissions."))


ecs_task_roles_distinct = ResourceValidationPolicy(
    name="ecs-task-roles-distinct",
    description="ECS task definitions must use a task role distinct from the execution role.",
    validate=_distinct_roles,
    enforcement_level=MANDATORY,
)


def _non_privileged(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TASK_DEFINITION:
        return
    for container in container_definitions(args.props):
        if truthy(container.get("privileged")):
            report(fix(f"Container '{container.get('name')}' runs privileged.", "remove privileged=true."))
        if str(container.get("user", "")).split(":")[0] in ("root", "0"):
            report(fix(f"Container '{container.get('name')}' runs as root.",
                       "run as an unprivileged user (USER in the image or `user` in the definition)."))
        added = (plain(container.get("linuxParameters") or {}).get("capabilities") or {}).get("add") or []
        if added:
            report(fix(f"Container '{container.get('name')}' adds Linux capabilities {added}.",
                       "drop the added capabilities."))


ecs_containers_non_privileged = ResourceValidationPolicy(
    name="ecs-containers-non-privileged",
    description="ECS containers must not run privileged, as root, or with added Linux capabilities.",
    validate=_non_privileged,
    enforcement_level=MANDATORY,
)


STACK_ROOT = "pulumi:pulumi:Stack"


def _read_only_root(args: StackValidationArgs, report: ReportViolation) -> None:
    """Every container read-only, except in the task definitions of a service with ECS Exec (which does not
    support a read-only root filesystem): the one its `taskDefinition` names, and those under the same
    component (webstack's Service: the service's one-off tasks, e.g. migrate)."""
    checker = StackChecker(args, report)
    exec_services = [
        service for service in checker.of_type(ECS_SERVICE)
        if checker.attempt(service, lambda s=service: truthy(s.props.get("enableExecuteCommand")), False)
    ]
    exec_components = {service.parent.urn for service in exec_services
                       if service.parent is not None and service.parent.resource_type != STACK_ROOT}
    for task in checker.of_type(TASK_DEFINITION):
        if (task.parent is not None and task.parent.urn in exec_components) \
                or checker.linking_to(task, exec_services, "taskDefinition"):
            continue
        containers = checker.attempt(task, lambda t=task: container_definitions(t.props), [])
        for container in containers:
            if not truthy(container.get("readonlyRootFilesystem")):
                checker.violation(task, fix(
                    f"Container '{container.get('name')}' can write to its root filesystem.",
                    "set readonlyRootFilesystem=true and mount a task volume where the app must write (in stack "
                    "config: keep readOnlyRootFilesystem on and list those directories under writablePaths); only "
                    "a service with ECS Exec may keep a writable root."))
    checker.finish()


ecs_containers_read_only_root = StackValidationPolicy(
    name="ecs-containers-read-only-root",
    description="ECS containers use a read-only root filesystem (except the task definitions of a service with "
                "ECS Exec, which does not support one).",
    validate=_read_only_root,
    enforcement_level=ADVISORY,
)


# Condition keys that tie an `Allow` for everyone (or for an AWS service) to one account or resource.
SCOPING_CONDITION_KEYS = ("aws:principalaccount", "aws:sourceaccount", "aws:sourceowner", "aws:sourcearn",
                          "aws:principalorgid", "aws:principalarn")
NEGATED_OPERATORS = ("stringnot", "arnnot", "notipaddress")


def _statement_account(statement: dict) -> str | None:
    """The account of the queue a statement is about, from its Resource ARN (arn:aws:sqs:region:account:name)."""
    for resource in as_list(statement.get("Resource")):
        parts = str(resource).split(":")
        if len(parts) >= 6 and parts[2] == "sqs" and parts[4].isdigit():
            return parts[4]
    return None


def _scoped(statement: dict, account: str | None) -> bool:
    """Is the statement restricted to one account or resource by a (non-negated) condition?"""
    for operator, conditions in (statement.get("Condition") or {}).items():
        if not isinstance(conditions, dict) or str(operator).lower().startswith(NEGATED_OPERATORS):
            continue
        for key, values in conditions.items():
            if str(key).lower() not in SCOPING_CONDITION_KEYS or "*" in "".join(map(str, as_list(values))):
                continue
            if account is None or str(key).lower() in ("aws:sourcearn", "aws:principalorgid", "aws:principalarn") \
                    or all(str(value) == account for value in as_list(values)):
                return True
    return False


def _queue_policy_problems(document: dict) -> list[str]:
    problems = []
    for statement in as_list((document or {}).get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        account = _statement_account(statement)
        principal = statement.get("Principal")
        if principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))):
            if not _scoped(statement, account):
                problems.append(f"statement {statement.get('Sid') or '(no Sid)'} allows everyone (Principal *) "
                                f"without a condition naming this account")
            continue
        if not isinstance(principal, dict):
            continue
        for aws_principal in as_list(principal.get("AWS")):
            text = str(aws_principal)
            owner = text if text.isdigit() else (text.split(":")[4] if text.startswith("arn:") and
                                                 len(text.split(":")) > 4 else None)
            if account is not None and owner is not None and owner != account:
                problems.append(f"statement {statement.get('Sid') or '(no Sid)'} allows account {owner}, not the "
                                f"queue's own ({account})")
        if principal.get("Service") and not _scoped(statement, account):
            problems.append(f"statement {statement.get('Sid') or '(no Sid)'} allows the service(s) "
                            f"{', '.join(map(str, as_list(principal['Service'])))} on behalf of any account (no "
                            f"aws:SourceAccount or aws:SourceArn condition)")
    return problems


def _sqs_queue_policy_account_only(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (SQS_QUEUE, SQS_QUEUE_POLICY) or not args.props.get("policy"):
        return
    for problem in _queue_policy_problems(json_document(args.props.get("policy"))):
        report(fix(f"The SQS queue policy is open to other accounts: {problem}.",
                   "allow only this account's principals (Principal {AWS: arn:aws:iam::<account>:root}), and scope a "
                   "service principal or * with aws:SourceAccount / aws:SourceArn / aws:PrincipalAccount of this "
                   "account (components/queue.py's queue_policy does so)."))


sqs_queue_policy_account_only = ResourceValidationPolicy(
    name="sqs-queue-policy-account-only",
    description="SQS queue policies allow only the queue's own account: no Principal * (or AWS service) without a "
                "condition naming the account or resource, no other account's principals.",
    validate=_sqs_queue_policy_account_only,
    enforcement_level=MANDATORY,
)


POLICIES = [
    iam_no_wildcard_actions,
    iam_no_wildcard_secret_reads,
    workload_roles_no_wildcard_resources,
    iam_no_privilege_escalation,
    ecs_task_roles_distinct,
    ecs_containers_non_privileged,
    ecs_containers_read_only_root,
    sqs_queue_policy_account_only,
]
