"""`webstack:queues.<name>`: an SQS queue with its dead-letter queue, produced to and consumed by services."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from stackconfig.base import ConfigModel

QUEUE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
# SQS (SetQueueAttributes): VisibilityTimeout 0-43200 s (12 hours), MessageRetentionPeriod 60-1209600 s
# (14 days); a redrive policy's maxReceiveCount 1-1000.
MAX_VISIBILITY_TIMEOUT = 43200
MIN_RETENTION, MAX_RETENTION = 60, 1209600
MAX_RECEIVE_COUNT = 1000


def _queue_name(name: str) -> str:
    if not QUEUE_NAME.match(name):
        raise ValueError("a queue name is 1-40 characters of a-z, 0-9 and '-', starting with a letter (it names "
                         "the queue's URL variable and prefixes its SQS name)")
    return name


QueueName = Annotated[str, AfterValidator(_queue_name)]


class QueueConfig(ConfigModel):
    """One SQS queue and its dead-letter queue, both encrypted; only this account may use them."""

    visibility_timeout: int = Field(
        default=300, ge=0, le=MAX_VISIBILITY_TIMEOUT,
        description="Seconds a received message stays hidden from other consumers: longer than the consumer takes "
                    "to process one, or it is delivered twice.",
    )
    retention: int = Field(
        default=345600, ge=MIN_RETENTION, le=MAX_RETENTION,
        description="Seconds SQS keeps an unconsumed message (345600 = 4 days, SQS's default).",
    )
    max_receive_count: int = Field(
        default=5, ge=1, le=MAX_RECEIVE_COUNT,
        description="Receives of a message before SQS moves it to the dead-letter queue (a message the consumer "
                    "keeps failing on).",
    )
    dead_letter_retention: int = Field(
        default=MAX_RETENTION, ge=MIN_RETENTION, le=MAX_RETENTION,
        description="Seconds the dead-letter queue keeps a message; at least `retention` (a standard queue's "
                    "message keeps its first enqueue time in the dead-letter queue).",
    )
    fifo: bool = Field(
        default=False,
        description="A FIFO queue (and FIFO dead-letter queue): ordered per message group, exactly-once "
                    "processing; producers then send a MessageGroupId. Changing it replaces both queues.",
    )
    encryption: Literal["sqs", "kms"] = Field(
        default="sqs",
        description="`sqs`: SSE-SQS (SQS-owned keys, no cost); `kms`: a customer managed KMS key of the stack, "
                    "rotated yearly (key policy and CloudTrail audit of every use, ~$1/month plus requests).",
    )

