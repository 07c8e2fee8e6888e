"""Secrets only in secret stores: never in container environments, task definitions or DB inputs."""

from __future__ import annotations

import re

from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
# A plain module next to this package (policies/ is on sys.path when the pack runs).
from secret_shapes import BY_NAME, holds_secret_value, is_secret_name, plaintext_secret, secret_value_shape

from .common import (
    ADVISORY,
    MANDATORY,
    RDS_CLUSTER,
    RDS_INSTANCE,
    REPLICATION_GROUP,
    SECRET,
    SECRET_ROTATION,
    TASK_DEFINITION,
    StackChecker,
    as_list,
    fix,
    json_document,
    present,
    truthy,
)

SECRET_STORE_ARN = re.compile(r"^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+"
                              r"|ssm:[a-z0-9-]+:\d{12}:parameter/[A-Za-z0-9/_.-]+)")


# Properties that make RDS take the master credentials from elsewhere (replica, snapshot, point in time, global primary).
CREDENTIALS_FROM_SOURCE = ("replicateSourceDb", "replicationSourceIdentifier", "snapshotIdentifier",
                           "restoreToPointInTime", "globalClusterIdentifier")


FLAG_NAME = re.compile(r"^-{0,2}[A-Za-z_][A-Za-z0-9_.-]*$")


def container_definitions(props) -> list[dict]:
    """`containerDefinitions` is a JSON string on the wire; tolerate an already-decoded list."""
    document = json_document(props.get("containerDefinitions"))
    return [c for c in as_list(document) if isinstance(c, dict)]


# `NAME=value` (optionally after `export`/`env`) and `--flag=value` / `--flag value` anywhere in a string; a
# value is a quoted string or runs to the next blank or shell operator.
_SHELL_VALUE = r"""('[^']*'|"[^"]*"|[^\s;&|()`]+)"""
SHELL_ASSIGNMENT = re.compile(r"(?:^|[\s;&|(`])([A-Za-z_][A-Za-z0-9_]*)=" + _SHELL_VALUE)
SHELL_FLAG = re.compile(r"(?:^|[\s;&|(`])--?([A-Za-z][A-Za-z0-9_-]*)(?:=|\s+)" + _SHELL_VALUE)


def shell_secret_assignments(text: str) -> list[str]:
    """The secret-named variables and flags a command string sets to a literal (`PGPASSWORD=hunter2`,
    `--password hunter2`); references (`$PGPASSWORD`, `${X}`, `$(cat /run/secrets/db)`) are not literals.

    The one place the pack judges a shell string; names and values are judged by `secret_shapes`.
    """
    found = []
    for pattern in (SHELL_ASSIGNMENT, SHELL_FLAG):
        for match in pattern.finditer(text):
            name, value = match.group(1), match.group(2).strip("'\"")
            if value.startswith(("$", "-")) or not is_secret_name(name) or not holds_secret_value(value):
                continue
            if name not in found:
                found.append(name)
    return found


def _argument_secret(argument: str) -> str | None:
    """Why a command/entryPoint argument (or docker label) holds a secret: its shape, or `--password=...`."""
    shape = secret_value_shape(argument)
    if shape:
        return f"holds {shape}"
    name, sep, value = argument.partition("=")
    # Only a whole `--flag=value`/`NAME=value` argument with a literal value (not a shell script, not `$VAR`).
    if sep and FLAG_NAME.match(name) and is_secret_name(name.lstrip("-")) and holds_secret_value(value) \
            and not value.startswith("$"):
        return f"sets {name.lstrip('-')} inline"
    assigned = shell_secret_assignments(argument)
    if assigned:
        return f"sets {', '.join(assigned)} to a literal in a shell command"
    return None


def _container_env_no_secrets(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TASK_DEFINITION:
        return
    allowed = set(args.get_config().get("allowedNames") or [])
    remedy = ("store the value in Secrets Manager (or SSM SecureString) and list it under the container's "
              "`secrets` with valueFrom=<secret ARN>; the execution role reads it at task start.")
    for container in container_definitions(args.props):
        for variable in as_list(container.get("environment")):
            name, value = str(variable.get("name", "")), variable.get("value")
            found = None if name in allowed else plaintext_secret(name, value)
            assigned = [] if found or name in allowed or value is None else shell_secret_assignments(str(value))
            if found or assigned:
                reason = ("has a secret-looking name" if found == BY_NAME else f"holds {found}" if found
                          else f"sets {', '.join(assigned)} to a literal in a shell command")
                report(fix(f"Container '{container.get('name')}' passes {name} in plain `environment` ({reason}).",
                           remedy))
        arguments = [("command", a) for a in as_list(container.get("command"))]
        arguments += [("entryPoint", a) for a in as_list(container.get("entryPoint"))]
        arguments += [(f"dockerLabels.{k}", f"{k}={v}") for k, v in (container.get("dockerLabels") or {}).items()]
        for where, argument in arguments:
            reason = _argument_secret(str(argument))
            if reason:
                report(fix(f"Container '{container.get('name')}' {where} {reason}: it is readable in the task "
                           "definition by anyone who can describe it.",
                           f"read the value from an environment variable filled from `secrets`; {remedy}"))


container_env_no_secrets = ResourceValidationPolicy(
    name="container-env-no-secrets",
    description="Container environment variables must not carry secrets (checked by name in any case and by "
                "value shape: private keys, AWS keys, URLs with passwords, tokens), nor command/entryPoint "
                "arguments, shell commands (`PGPASSWORD=...`, `--password ...`; `$VAR` references pass) or docker "
                "labels.",
    validate=_container_env_no_secrets,
    enforcement_level=MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "allowedNames": {"type": "array", "items": {"type": "string"}, "default": [],
                         "description": "Variable names reviewed as not secret despite their name."},
    }),
)


def _container_secrets_from_stores(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TASK_DEFINITION:
        return
    for container in container_definitions(args.props):
        for secret in as_list(container.get("secrets")):
            value_from = str(secret.get("valueFrom", ""))
            if not SECRET_STORE_ARN.match(value_from):
                report(fix(
                    f"Container '{container.get('name')}' secret {secret.get('name')} comes from '{value_from}', "
                    "which is not a Secrets Manager secret or SSM parameter ARN.",
                    "set valueFrom to the full ARN of a Secrets Manager secret (optionally with :json-key::) or "
                    "of an SSM parameter.",
                ))


container_secrets_from_secret_stores = ResourceValidationPolicy(
    name="container-secrets-from-secret-stores",
    description="Container `secrets` must reference Secrets Manager or SSM Parameter Store ARNs.",
    validate=_container_secrets_from_stores,
    enforcement_level=MANDATORY,
)


def _rds_managed_master_password(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (RDS_INSTANCE, RDS_CLUSTER):
        return
    props = args.props
    password_keys = ("password", "passwordWo") if args.resource_type == RDS_INSTANCE else ("masterPassword", "masterPasswordWo")
    given = [key for key in password_keys if present(props, key)]
    if given:  # even on a replica or a restore: the value sits in config and state, and resets the password
        report(fix(f"The database is given a master password ({', '.join(given)}): it lives in config and state.",
                   "drop the password and set manage_master_user_password=True; RDS keeps it in Secrets Manager "
                   "and rotates it."))
    elif any(present(props, key) for key in CREDENTIALS_FROM_SOURCE):
        return  # a replica, a restore or a global secondary takes its credentials from the source
    elif not truthy(props.get("manageMasterUserPassword")):
        report(fix("The master password is not managed by RDS (manageMasterUserPassword is not true).",
                   "set manage_master_user_password=True and hand the services the generated secret's ARN."))


rds_managed_master_password = ResourceValidationPolicy(
    name="rds-managed-master-password",
    description="RDS master credentials must be managed by RDS in Secrets Manager, never a plaintext password.",
    validate=_rds_managed_master_password,
    enforcement_level=MANDATORY,
)


def _redis_auth(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != REPLICATION_GROUP or str(args.props.get("engine", "redis")).lower() not in ("redis", "valkey"):
        return
    has_auth = any(present(args.props, key) for key in ("authToken", "authTokenWo", "userGroupIds"))
    if not has_auth:
        report(fix("Redis accepts connections without authentication (no authToken and no userGroupIds).",
                   "attach an RBAC user group (user_group_ids) or an AUTH token from Secrets Manager; both need "
                   "transit_encryption_enabled=True."))


redis_auth_required = ResourceValidationPolicy(
    name="redis-auth-required",
    description="Redis/Valkey replication groups must require authentication (RBAC user group or AUTH token).",
    validate=_redis_auth,
    enforcement_level=MANDATORY,
)


def _secrets_recoverable(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != SECRET or args.props.get("recoveryWindowInDays") is None:
        return  # unset: AWS keeps a deleted secret restorable for 30 days
    minimum = int(args.get_config().get("minRecoveryWindowDays", 7))
    days = int(args.props.get("recoveryWindowInDays"))
    if days < minimum:
        what = "is deleted at once, beyond recovery" if days == 0 else f"stays restorable for only {days} day(s)"
        report(fix(f"A deleted secret {what} (recoveryWindowInDays={days}); at least {minimum} required.",
                   f"set recovery_window_in_days to {minimum}-30 (or leave it unset: 30)."))


secrets_recoverable = ResourceValidationPolicy(
    name="secrets-recoverable",
    description="Secrets Manager secrets must stay restorable after deletion for the configured days "
                "(never recoveryWindowInDays 0).",
    validate=_secrets_recoverable,
    enforcement_level=MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "minRecoveryWindowDays": {"type": "integer", "minimum": 7, "maximum": 30, "default": 7},
    }),
)


def _secret_rotation(args: StackValidationArgs, report: ReportViolation) -> None:
    checker = StackChecker(args, report)
    rotations = checker.of_type(SECRET_ROTATION)
    for secret in checker.of_type(SECRET):
        if not checker.linking_to(secret, rotations, "secretId"):
            checker.violation(secret, fix(
                "The secret has no rotation configured.",
                "add an aws.secretsmanager.SecretRotation with a rotation Lambda where the consumer can rotate "
                "(database credentials managed by RDS already rotate).",
            ))
    checker.finish()


secrets_rotated = StackValidationPolicy(
    name="secrets-rotated",
    description="Secrets Manager secrets should have automatic rotation.",
    validate=_secret_rotation,
    enforcement_level=ADVISORY,
)


POLICIES = [
    container_env_no_secrets,
    container_secrets_from_secret_stores,
    rds_managed_master_password,
    redis_auth_required,
    secrets_recoverable,
    secrets_rotated,
]
