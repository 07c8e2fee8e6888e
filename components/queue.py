"""WorkQueue: an SQS queue and its dead-letter queue, encrypted, usable by this account only.

The queue's redrive policy moves a message to the dead-letter queue after `maxReceiveCount` receives;
the dead-letter queue's redrive allow policy accepts only this queue as a source. Both carry a queue
policy that lets this account (its IAM principals, by their own policies) use them and denies every
request from another account and every request without TLS. Encryption is SSE-SQS, or a customer
managed KMS key of the queue (rotated yearly) whose use producers and the consumer are granted with
their queue permissions. Producers and the consumer get statements for their task roles
(`producer_statements`, `consumer_statements`), never anything on another queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from stackconfig.queues import QueueConfig

PRODUCER_ACTIONS = ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
CONSUMER_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
# SSE-KMS: a sender needs a data key, a receiver decrypts (AWS SQS developer guide, key management).
PRODUCER_KEY_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"]
CONSUMER_KEY_ACTIONS = ["kms:Decrypt"]


def queue_policy(queue_arn: str, account_id: str) -> dict:
    """This account's principals may use the queue (as their IAM policies allow); nobody else, and never without TLS."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ThisAccountOnly",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "sqs:*",
                "Resource": queue_arn,
            },
            {
                "Sid": "DenyOtherAccounts",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"StringNotEquals": {"aws:PrincipalAccount": account_id}},
            },
            {
                "Sid": "DenyWithoutTls",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def key_policy(account_id: str) -> str:
    """The account administers the key and grants its use through IAM (the task roles' statements)."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AccountAdministersTheKey",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }],
    })


@dataclass(frozen=True)
class WorkQueueArgs:
    settings: QueueConfig
    account_id: pulumi.Input[str]


class WorkQueue(pulumi.ComponentResource):
    queue_url: pulumi.Output[str]
    queue_arn: pulumi.Output[str]
    queue_name: pulumi.Output[str]
    dead_letter_queue_name: pulumi.Output[str]
    key_arn: Optional[pulumi.Output[str]]

    def __init__(self, name: str, args: WorkQueueArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:queue:WorkQueue", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings
        account = pulumi.Output.from_input(args.account_id)
        prefix = f"{pulumi.get_project()}-{pulumi.get_stack()}"

        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"{prefix}: encrypts queue {name} and its dead-letter queue",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=account.apply(key_policy),
            opts=child,
        ) if settings.encryption == "kms" else None
        encryption = {"kms_master_key_id": self.key.arn} if self.key is not None else {"sqs_managed_sse_enabled": True}
        # A FIFO queue's name must end with `.fifo`: the provider adds it to a generated name_prefix name
        # (a dead-letter queue of a FIFO queue is FIFO too).
        fifo = {"fifo_queue": True, "content_based_deduplication": True} if settings.fifo else {}

        self.dead_letter_queue = aws.sqs.Queue(
            f"{name}-dlq",
            message_retention_seconds=settings.dead_letter_retention,
            **({"name_prefix": f"{name}-dlq-"} if settings.fifo else {}),
            **fifo,
            **encryption,
            opts=child,
        )
        self.queue = aws.sqs.Queue(
            f"{name}-queue",
            visibility_timeout_seconds=settings.visibility_timeout,
            message_retention_seconds=settings.retention,
            # Long polling: a consumer's ReceiveMessage waits up to 20 s for a message (fewer empty receives).
            receive_wait_time_seconds=20,
            redrive_policy=self.dead_letter_queue.arn.apply(lambda arn: json.dumps({
                "deadLetterTargetArn": arn, "maxReceiveCount": settings.max_receive_count,
            })),
            **({"name_prefix": f"{name}-"} if settings.fifo else {}),
            **fifo,
            **encryption,
            opts=child,
        )
        aws.sqs.RedriveAllowPolicy(
            f"{name}-dlq-sources",
            queue_url=self.dead_letter_queue.url,
            redrive_allow_policy=self.queue.arn.apply(lambda arn: json.dumps({
                "redrivePermission": "byQueue", "sourceQueueArns": [arn],
            })),
            opts=child,
        )
        for label, queue in (("queue", self.queue), ("dlq", self.dead_letter_queue)):
            aws.sqs.QueuePolicy(
                f"{name}-{label}-policy",
                queue_url=queue.url,
                policy=pulumi.Output.all(queue.arn, account).apply(lambda v: json.dumps(queue_policy(*v))),
                opts=child,
            )

        self.queue_url = self.queue.url
        self.queue_arn = self.queue.arn
        self.queue_name = self.queue.name
        self.dead_letter_queue_name = self.dead_letter_queue.name
        self.key_arn = self.key.arn if self.key is not None else None
        self.register_outputs({
            "queueUrl": self.queue_url,
            "queueArn": self.queue_arn,
            "deadLetterQueueUrl": self.dead_letter_queue.url,
            "keyArn": self.key_arn,
        })

    def producer_statements(self) -> pulumi.Output[list[dict]]:
        """Send to this queue (and use its key), nothing else."""
        return self._statements("SendTo", PRODUCER_ACTIONS, PRODUCER_KEY_ACTIONS)

    def consumer_statements(self) -> pulumi.Output[list[dict]]:
        """Receive, delete and extend the visibility of this queue's messages (and decrypt them), nothing else."""
        return self._statements("Consume", CONSUMER_ACTIONS, CONSUMER_KEY_ACTIONS)

    def _statements(self, sid: str, actions: list[str], key_actions: list[str]) -> pulumi.Output[list[dict]]:
        key_arn = self.key_arn if self.key_arn is not None else pulumi.Output.from_input("")
        label = "".join(part.capitalize() for part in self._name.split("-"))

        def build(values: list[str]) -> list[dict]:
            queue_arn, key = values
            statements = [{"Sid": f"{sid}{label}", "Effect": "Allow", "Action": actions, "Resource": [queue_arn]}]
            if key:
                statements.append({"Sid": f"{sid}{label}Key", "Effect": "Allow", "Action": key_actions,
                                   "Resource": [key]})
            return statements

        return pulumi.Output.all(self.queue_arn, key_arn).apply(build)
