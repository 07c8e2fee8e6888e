"""AppSecrets: application secrets given as Pulumi secrets, stored in Secrets Manager for the containers.

One `Secret` + `SecretVersion` per value (`webstack:appSecrets.<name>`, set with
`pulumi config set --secret`). Containers read them by ARN through ECS `secrets`; the value stays
encrypted in the Pulumi state and never reaches a task definition or an output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class AppSecretsArgs:
    values: Mapping[str, pulumi.Input[str]]
    # Days a deleted secret can be restored (AWS: 7-30).
    recovery_window_days: int = 30


class AppSecrets(pulumi.ComponentResource):
    # Entry name -> ARN of the secret holding it.
    arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: AppSecretsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:app_secrets:AppSecrets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stack_path = f"{pulumi.get_project()}/{pulumi.get_stack()}"
        self.arns = {}
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
            # Handed out only once the value is stored: a task started earlier could not read it.
            self.arns[entry] = pulumi.Output.all(secret.arn, version.id).apply(lambda values: values[0])
        self.register_outputs({"arns": self.arns})
