"""`webstack:queues.<name>` and a service's `produces`/`consumes`: accepted and refused, each message exact."""

from __future__ import annotations

import pytest

from stackconfig import validate_stack_config
from tests.test_config import problems, with_change


def test_the_committed_queue_gets_sqs_defaults_and_its_consumer_a_backlog_target():
    config = validate_stack_config(with_change("queues", {"tasks": {}})).resolved()
    tasks = config.queues["tasks"]
    assert (tasks.visibility_timeout, tasks.retention, tasks.max_receive_count) == (300, 345600, 5)
    assert (tasks.dead_letter_retention, tasks.fifo, tasks.encryption) == (1209600, False, "sqs")
    assert config.services["worker"].consumes == "tasks"
    assert config.services["backend"].produces == ["tasks"]
    assert config.services["worker"].scaling.backlog_per_task == 10  # from the dev stack file
    assert config.services["backend"].scaling.backlog_per_task is None


def test_a_consumer_without_backlog_per_task_gets_the_default():
    values = with_change("services.worker.scaling", {"min": 1, "max": 3})
    assert validate_stack_config(values).resolved().services["worker"].scaling.backlog_per_task == 10


REFUSED = [
    ({"visibilityTimeout": 43201}, "webstack:queues.tasks.visibilityTimeout = 43201: Input should be less than or "
                                   "equal to 43200"),
    ({"visibilityTimeout": -1}, "webstack:queues.tasks.visibilityTimeout = -1: Input should be greater than or "
                                "equal to 0"),
    ({"retention": 59}, "webstack:queues.tasks.retention = 59: Input should be greater than or equal to 60"),
    ({"retention": 1209601}, "webstack:queues.tasks.retention = 1209601: Input should be less than or equal to "
                             "1209600"),
    ({"maxReceiveCount": 0}, "webstack:queues.tasks.maxReceiveCount = 0: Input should be greater than or equal "
                             "to 1"),
    ({"maxReceiveCount": 1001}, "webstack:queues.tasks.maxReceiveCount = 1001: Input should be less than or "
                                "equal to 1000"),
    ({"encryption": "none"}, "webstack:queues.tasks.encryption = \"none\": Input should be 'sqs' or 'kms'"),
]


@pytest.mark.parametrize(("changes", "expected"), REFUSED)
def test_a_bad_queue_is_refused_naming_the_key_and_value(changes, expected):
    assert problems(with_change("queues", {"tasks": changes})) == [expected]


def test_a_bad_queue_name_is_refused():
    values = with_change("queues", {"Tasks": {}, "tasks": {}})
    assert problems(values)[0] == (
        "webstack:queues.Tasks = \"Tasks\": a queue name is 1-40 characters of a-z, 0-9 and '-', starting with a letter (it "
        "names the queue's URL variable and prefixes its SQS name)"
    )
