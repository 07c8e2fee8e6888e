"""SecretRotationRedeploy: when RDS rotates its managed master secret, redeploy the services that read it.

Containers get `DATABASE_PASSWORD` from Secrets Manager only when they start (ECS: "If the secret is
subsequently updated or rotated, the container will not receive the updated value automatically"),
and RDS's managed rotation (every 7 days by default) changes the password of the one master user, so
the old password stops working at once. This component closes the gap without a Lambda:

- an EventBridge rule on Secrets Manager's native `Secret Label Updated` event (source
  `aws.secretsmanager`, the secret's ARN in `resources`, `detail.labelUpdated` = `AWSCURRENT`).
  Secrets Manager publishes it to the default bus for every secret whenever a staging label other
  than AWSPENDING/AWSPREVIOUS moves, with no CloudTrail trail needed (Secrets Manager User Guide,
  "Secret event notifications" and "Secret Label Updated event"). The CloudTrail-derived form
  (`AWS Service Event via CloudTrail`, `RotationSucceeded`) is delivered on a best-effort basis
  and only fires for rotations, not for a value put by hand;
- a STANDARD Step Functions state machine that calls `ecs:updateService` with
  `ForceNewDeployment: true` for each service through the AWS SDK integration
  (`arn:aws:states:::aws-sdk:ecs:updateService`), one Parallel branch per service;
- two IAM roles: EventBridge may only start this state machine, the state machine may only update
  these services (plus the log-delivery calls CloudWatch Logs requires on `*`);
- alarms on failed executions and on events EventBridge could not deliver, to the alert topic.

STANDARD, not EXPRESS: an execution runs exactly once (an EXPRESS one is at-least-once and would
redeploy twice), retries with backoff may outlast EXPRESS's 5-minute limit, and the execution history
stays in Step Functions for 90 days without depending on logs. A run is a handful of state
transitions a week, inside Step Functions' free tier. docs/secret-rotation.md has the whole design.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

UPDATE_SERVICE = "arn:aws:states:::aws-sdk:ecs:updateService"
# AWS SDK integration errors are `<Service>.<Exception>` (Step Functions Developer Guide, "AWS SDK
# service integrations"). ECS does not model its throttling error ("Rate exceeded", aws/aws-sdk#821),
# so it surfaces as the service's base exception `Ecs.EcsException`; `Ecs.ServerException` is ECS's
# own 5xx and `States.Timeout` a call that exceeded the task's timeout.
RETRYABLE_ERRORS = ["Ecs.EcsException", "Ecs.ServerException", "States.Timeout"]
UPDATE_TIMEOUT_SECONDS = 60
# 5 s, 10 s, 20 s ... capped at 2 minutes, with jitter: about 9 minutes in all before a branch gives up.
RETRY_POLICY = {"IntervalSeconds": 5, "MaxAttempts": 8, "BackoffRate": 2.0, "MaxDelaySeconds": 120,
                "JitterStrategy": "FULL"}
# Step Functions' vended-log delivery: these CloudWatch Logs actions support no resource-level
# permissions (Step Functions Developer Guide, "IAM policies for logging to CloudWatch Logs").
LOG_DELIVERY_ACTIONS = [
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
]
STATE_MACHINE_NAME_LIMIT = 80
UNIQUE_SUFFIX_LENGTH = 26  # what the provider appends to a name_prefix
FAILED_STATE = "Redeploy failed"


@dataclass(frozen=True)
class RedeployedService:
    service_name: pulumi.Input[str]
    service_arn: pulumi.Input[str]


@dataclass(frozen=True)
class SecretRotationRedeployArgs:
    # The secret whose rotation (AWSCURRENT moving to a new version) triggers the redeploy.
    secret_arn: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    # Config name -> the ECS service that reads the secret.
    services: Mapping[str, RedeployedService]
    region: str
    account_id: pulumi.Input[str]
    log_retention_days: int
    alert_topic_arn: pulumi.Input[str]


def rotation_event_pattern(secret_arn: str) -> str:
    """The native Secrets Manager event for a new current version of exactly this secret."""
    return json.dumps({
        "source": ["aws.secretsmanager"],
        "detail-type": ["Secret Label Updated"],
        "resources": [secret_arn],
        "detail": {"labelUpdated": ["AWSCURRENT"]},
    })


def redeploy_definition(cluster_arn: str, services: Sequence[tuple[str, str]]) -> str:
    """The ASL of the redeploy: `services` are (label, ECS service name) pairs, one Parallel branch each.

    A branch catches its own failure and reports it: an uncaught error in one branch would stop the
    others, and every service must be redeployed even when one cannot be. After the Parallel state
    (whose output lists the branches' results in branch order) the execution fails if any did.
    """
    if not services:
        raise ValueError("redeploy_definition needs at least one service")
    branches = []
    for label, service_name in services:
        update, done, failed = f"Redeploy {label}", f"{label} redeployed", f"{label} not redeployed"
        branches.append({
            "StartAt": update,
            "States": {
                update: {
                    "Type": "Task",
                    "Resource": UPDATE_SERVICE,
                    "Parameters": {"Cluster": cluster_arn, "Service": service_name, "ForceNewDeployment": True},
                    "TimeoutSeconds": UPDATE_TIMEOUT_SECONDS,
                    "Retry": [{"ErrorEquals": RETRYABLE_ERRORS, **RETRY_POLICY}],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": failed}],
                    # The service description ECS answers with is not needed downstream.
                    "ResultPath": None,
                    "Next": done,
                },
                done: {"Type": "Pass", "Parameters": {"service": label, "redeployed": True}, "End": True},
                failed: {"Type": "Pass", "Parameters": {"service": label, "redeployed": False, "error.$": "$.error"},
                         "End": True},
            },
        })
    not_redeployed = [{"Variable": f"$[{index}].redeployed", "BooleanEquals": False}
                      for index in range(len(services))]
    any_failed = not_redeployed[0] if len(not_redeployed) == 1 else {"Or": not_redeployed}
    return json.dumps({
        "Comment": "Force a new deployment of every ECS service that reads the rotated secret",
        "StartAt": "Redeploy services",
        "States": {
            "Redeploy services": {"Type": "Parallel", "Branches": branches, "Next": "Check redeploys"},
            "Check redeploys": {
                "Type": "Choice",
                "Choices": [{**any_failed, "Next": FAILED_STATE}],
                "Default": "Redeployed",
            },
            FAILED_STATE: {
                "Type": "Fail",
                "Error": "ServicesNotRedeployed",
                "Cause": "At least one service could not be redeployed after the secret rotated: see the "
                         "'not redeployed' states of this execution",
            },
            "Redeployed": {"Type": "Succeed"},
        },
    })


def state_machine_prefix(base: str) -> str:
    """A name_prefix Step Functions accepts (letters, digits, `-`, `_`) that leaves room for the suffix."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", base)
    return cleaned[:STATE_MACHINE_NAME_LIMIT - UNIQUE_SUFFIX_LENGTH - 1] + "-"


def service_trust(service: str, account_id: str, source_arn: str) -> str:
    """`service` may assume the role only on behalf of `source_arn` in this account (confused deputy)."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id},
                "ArnLike": {"aws:SourceArn": source_arn},
            },
        }],
    })


def redeploy_policy(service_arns: Sequence[str]) -> str:
    """The state machine updates exactly these services, and delivers its logs."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "RedeployTheServices", "Effect": "Allow", "Action": ["ecs:UpdateService"],
             "Resource": sorted(service_arns)},
            {"Sid": "DeliverExecutionLogs", "Effect": "Allow", "Action": LOG_DELIVERY_ACTIONS, "Resource": "*"},
        ],
    })


def start_execution_policy(state_machine_arn: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["states:StartExecution"], "Resource": [state_machine_arn]}],
    })


class SecretRotationRedeploy(pulumi.ComponentResource):
    state_machine_arn: pulumi.Output[str]
    rule_arn: pulumi.Output[str]

    def __init__(self, name: str, args: SecretRotationRedeployArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:rotation:SecretRotationRedeploy", name, None, opts)
        if not args.services:
            raise ValueError("SecretRotationRedeployArgs.services must name at least one service")
        child = pulumi.ResourceOptions(parent=self)
        stack_prefix = f"{pulumi.get_project()}-{pulumi.get_stack()}"
        labels = sorted(args.services)
        account_id = pulumi.Output.from_input(args.account_id)

        # Auto-named with a known prefix, so the role's trust can name it before it exists (the state
        # machine needs the role first) and a replacement can be created before the old one goes.
        machine_prefix = state_machine_prefix(f"{stack_prefix}-{name}")
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            # CloudWatch Logs recommends the /aws/vendedlogs/ prefix for vended logs (resource policy size).
            name_prefix=f"/aws/vendedlogs/states/{machine_prefix}",
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        machine_role = aws.iam.Role(
            f"{name}-machine",
            description=f"{stack_prefix}: the rotation redeploy state machine updates its services",
            assume_role_policy=account_id.apply(lambda account: service_trust(
                "states.amazonaws.com", account,
                f"arn:aws:states:{args.region}:{account}:stateMachine:{machine_prefix}*",
            )),
            opts=child,
        )
        machine_access = aws.iam.RolePolicy(
            f"{name}-machine-redeploy",
            role=machine_role.id,
            policy=pulumi.Output.all(*[args.services[label].service_arn for label in labels]).apply(
                lambda arns: redeploy_policy(arns)
            ),
            opts=child,
        )
        definition = pulumi.Output.all(
            args.cluster_arn, *[args.services[label].service_name for label in labels]
        ).apply(lambda values: redeploy_definition(values[0], list(zip(labels, values[1:]))))
        self.state_machine = aws.sfn.StateMachine(
            name,
            name_prefix=machine_prefix,
            type="STANDARD",
            role_arn=machine_role.arn,
            definition=definition,
            logging_configuration=aws.sfn.StateMachineLoggingConfigurationArgs(
                level="ALL",
                # The event (secret name, ARN and version id, never its value) and ECS's answers.
                include_execution_data=True,
                log_destination=self.log_group.arn.apply(lambda arn: f"{arn}:*"),
            ),
            # Step Functions checks the role's log-delivery permissions when the machine is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[machine_access]),
        )

        self.rule = aws.cloudwatch.EventRule(
            f"{name}-rotated",
            description=f"{stack_prefix}: the database master secret has a new current version",
            event_pattern=pulumi.Output.from_input(args.secret_arn).apply(rotation_event_pattern),
            state="ENABLED",
            opts=child,
        )
        events_role = aws.iam.Role(
            f"{name}-events",
            description=f"{stack_prefix}: EventBridge starts the rotation redeploy",
            assume_role_policy=pulumi.Output.all(account_id, self.rule.arn).apply(
                lambda values: service_trust("events.amazonaws.com", values[0], values[1])
            ),
            opts=child,
        )
        start_access = aws.iam.RolePolicy(
            f"{name}-events-start",
            role=events_role.id,
            policy=self.state_machine.arn.apply(start_execution_policy),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-redeploy",
            rule=self.rule.name,
            target_id="redeploy-services",
            arn=self.state_machine.arn,
            role_arn=events_role.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[start_access]),
        )

        self.alarms = [
            self._alarm(f"{name}-failed", f"{stack_prefix}-{name}-failed",
                        "P0: The redeploy after the database master secret rotated failed: the services it names "
                        "still run with the old password, and their new database connections fail. What to do: "
                        "open the failed execution in Step Functions (its 'not redeployed' states name each "
                        "service and the error), then force a new deployment of each "
                        "(`aws ecs update-service --force-new-deployment`, docs/secret-rotation.md).",
                        "AWS/States", "ExecutionsFailed",
                        {"StateMachineArn": self.state_machine.arn}, args.alert_topic_arn),
            self._alarm(f"{name}-undelivered", f"{stack_prefix}-{name}-undelivered",
                        "P0: EventBridge could not start the redeploy after the database master secret rotated: "
                        "the services that use the database still run with the old password. What to do: check "
                        "the rule's target and its role (it may start only this state machine), then force a new "
                        "deployment of those services (docs/secret-rotation.md).",
                        "AWS/Events", "FailedInvocations", {"RuleName": self.rule.name}, args.alert_topic_arn),
        ]

        self.state_machine_arn = self.state_machine.arn
        self.rule_arn = self.rule.arn
        self.register_outputs({
            "stateMachineArn": self.state_machine_arn,
            "ruleArn": self.rule_arn,
            "logGroupName": self.log_group.name,
            "alarmNames": [alarm.name for alarm in self.alarms],
        })

    def _alarm(self, resource_name: str, alarm_name: str, description: str, namespace: str, metric: str,
               dimensions: Mapping[str, pulumi.Input[str]], topic_arn: pulumi.Input[str]) -> aws.cloudwatch.MetricAlarm:
        return aws.cloudwatch.MetricAlarm(
            resource_name,
            name=alarm_name,
            alarm_description=description,
            namespace=namespace,
            metric_name=metric,
            dimensions=dict(dimensions),
            statistic="Sum",
            period=300,
            evaluation_periods=1,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            # No rotation, no data: that is the normal state.
            treat_missing_data="notBreaching",
            actions_enabled=True,
            alarm_actions=[topic_arn],
            ok_actions=[topic_arn],
            # A fixed name: a replacement must delete the old alarm first.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
