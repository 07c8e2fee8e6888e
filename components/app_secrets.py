"""AppSecrets: application secrets given as Pulumi secrets, stored in Secrets Manager for the containers.

One `Secret` + `SecretVersion` per value (`webstack:appSecrets.<name>`, set with
`pulumi config set --secret`). Containers read them through ECS `secrets`, pinned to the version
that holds the current value: changing the value in config and running `pulumi up` writes a new
version, which changes the task definitions and rolls the services onto it
(docs/secret-rotation.md). The value stays encrypted in the Pulumi state and never reaches a task
definition or an output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws

from helpers.container import pinned_secret_reference


@dataclass(frozen=True)
class AppSecretsArgs:
    values: Mapping[str, pulumi.Input[str]]
    # Days a deleted secret can be restored (AWS: 7-30).
    recovery_window_days: int = 30


class AppSecrets(pulumi.ComponentResource):
    # Entry name -> ECS `valueFrom` of the version holding the current value.
    references: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: AppSecretsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:app_secrets:AppSecrets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stack_path = f"{pulumi.get_project()}/{pulumi.get_stack()}"
        self.references = {}
        for entry, value in sorted(args.values.items()):
            secret = aws.secretsmanager.Secret(
                f"{name}-{entry}",
                # Readable names (`webstack/prod/djangoSecretKey-...`); the suffix lets a replacement coexist.
                name_prefix=f"{stack_path}/{entry}-",
                description=f"{entry} of {stack_path}, from webstack:appSecrets",
                recovery_window_in_days=args.recovery_window_days,
                opts=child,
            )
            version = aws.secretsmanager.SecretVersion(
                f"{name}-{entry}", secret_id=secret.id, secret_string=pulumi.Output.secret(value), opts=child
            )
            # The version id exists only once the value is stored: no task can start before it is readable.
            self.references[entry] = pulumi.Output.all(secret.arn, version.version_id).apply(
                lambda values: pinned_secret_reference(values[0], values[1])
            )
        self.register_outputs({"references": self.references})
