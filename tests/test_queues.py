"""Queues and the queue worker in the whole program (dev and prod under mocks), down to their documents."""

from __future__ import annotations

import json

import pytest

from preflight.capture import ProgramRun
from tests.conftest import container_definitions, run_stack

QUEUE = "aws:sqs/queue:Queue"
POLICY = "aws:appautoscaling/policy:Policy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ACCOUNT = "123456789012"


def resource(run: ProgramRun, type_: str, name: str):
    return next(r for r in run.of_type(type_) if r.name == name)


def environment(run: ProgramRun, service: str) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container_definitions(run, f"-{service}")[0]["environment"]}


@pytest.fixture(params=["dev", "prod"])
def queue_run(request) -> ProgramRun:
    return request.getfixturevalue(f"{request.param}_run")


def test_the_queue_is_encrypted_and_redrives_to_an_encrypted_dead_letter_queue(queue_run):
    queue, dlq = resource(queue_run, QUEUE, "tasks-queue"), resource(queue_run, QUEUE, "tasks-dlq")
    assert json.loads(queue.inputs["redrivePolicy"]) == {"deadLetterTargetArn": dlq.outputs["arn"],
                                                         "maxReceiveCount": 5}
    assert (queue.inputs["visibilityTimeoutSeconds"], queue.inputs["messageRetentionSeconds"]) == (300, 345600)
    assert queue.inputs["receiveWaitTimeSeconds"] == 20
    assert dlq.inputs["messageRetentionSeconds"] == 1209600 and "redrivePolicy" not in dlq.inputs
    if queue_run.stack == "prod":  # encryption: kms
        key = resource(queue_run, "aws:kms/key:Key", "tasks-key")
        assert queue.inputs["kmsMasterKeyId"] == dlq.inputs["kmsMasterKeyId"] == key.outputs["arn"]
        assert key.inputs["enableKeyRotation"] is True
        assert "sqsManagedSseEnabled" not in queue.inputs
    else:
        assert queue.inputs["sqsManagedSseEnabled"] is dlq.inputs["sqsManagedSseEnabled"] is True
        assert "kmsMasterKeyId" not in queue.inputs
    assert "fifoQueue" not in queue.inputs and "name" not in queue.inputs  # auto-named: replaced create-first
    allow = resource(queue_run, "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy", "tasks-dlq-sources")
    assert allow.inputs["queueUrl"] == dlq.outputs["url"]
    assert json.loads(allow.inputs["redriveAllowPolicy"]) == {"redrivePermission": "byQueue",
                                                              "sourceQueueArns": [queue.outputs["arn"]]}


def test_both_queues_allow_this_account_only_and_only_over_tls(queue_run):
    for label in ("queue", "dlq"):
        target = resource(queue_run, QUEUE, f"tasks-{label}")
        policy = resource(queue_run, "aws:sqs/queuePolicy:QueuePolicy", f"tasks-{label}-policy")
        assert policy.inputs["queueUrl"] == target.outputs["url"]
        statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
        assert statements["ThisAccountOnly"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
        assert statements["DenyOtherAccounts"]["Effect"] == "Deny"
        assert statements["DenyOtherAccounts"]["Condition"] == {"StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}}
        assert statements["DenyWithoutTls"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert {s["Resource"] for s in statements.values()} == {target.outputs["arn"]}


def test_the_producer_may_only_send_and_the_worker_only_consume_that_queue(queue_run):
    queue = resource(queue_run, QUEUE, "tasks-queue")
    for service in ("backend", "worker"):
        assert environment(queue_run, service)["TASKS_QUEUE_URL"] == queue.outputs["url"]
    assert "TASKS_QUEUE_URL" not in environment(queue_run, "frontend")

    def statements(service: str) -> dict[str, dict]:
        policy = resource(queue_run, ROLE_POLICY, f"{service}-task-access")
        assert policy.inputs["role"] == resource(queue_run, "aws:iam/role:Role", f"{service}-task").id
        return {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}

    send, consume = statements("backend")["SendToTasks"], statements("worker")["ConsumeTasks"]
    assert send["Action"] == ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
    assert consume["Action"] == ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                                 "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
    assert send["Resource"] == consume["Resource"] == [queue.outputs["arn"]]
    assert not [s for s in statements("worker").values() if "sqs:SendMessage" in s["Action"]]
    if queue_run.stack == "prod":
        key = resource(queue_run, "aws:kms/key:Key", "tasks-key").outputs["arn"]
        assert statements("backend")["SendToTasksKey"] == {
            "Sid": "SendToTasksKey", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": [key]}
        assert statements("worker")["ConsumeTasksKey"]["Action"] == ["kms:Decrypt"]
    else:
        assert set(statements("worker")) == {"ConsumeTasks"}


def test_the_worker_is_no_web_service(queue_run):
    worker = resource(queue_run, "aws:ecs/service:Service", "worker-service").inputs
    assert "loadBalancers" not in worker and "healthCheckGracePeriodSeconds" not in worker
    assert worker["networkConfiguration"]["assignPublicIp"] is False
    assert not [r for r in queue_run.of_type("aws:lb/targetGroup:TargetGroup") if r.name.startswith("worker")]
    assert not [r for r in queue_run.of_type("aws:lb/listenerRule:ListenerRule") if r.name.startswith("worker")]
    assert "portMappings" not in container_definitions(queue_run, "-worker")[0] or \
        container_definitions(queue_run, "-worker")[0]["portMappings"] == []


def test_the_worker_tracks_backlog_per_task_with_metric_math(queue_run):
    backlog = resource(queue_run, POLICY, "worker-scaling-backlog").inputs
    assert backlog["policyType"] == "TargetTrackingScaling"
    config = backlog["targetTrackingScalingPolicyConfiguration"]
    assert config["targetValue"] == (10 if queue_run.stack == "dev" else 20)
    metrics = {m["id"]: m for m in config["customizedMetricSpecification"]["metrics"]}
    visible, tasks, quotient = metrics["visible"], metrics["tasks"], metrics["backlog"]
    queue_name = resource(queue_run, QUEUE, "tasks-queue").outputs["name"]
    assert visible["metricStat"]["metric"] == {"namespace": "AWS/SQS", "metricName": "ApproximateNumberOfMessagesVisible",
                                               "dimensions": [{"name": "QueueName", "value": queue_name}]}
    assert tasks["metricStat"]["metric"]["metricName"] == "RunningTaskCount"
    assert tasks["metricStat"]["metric"]["namespace"] == "ECS/ContainerInsights"
    worker_name = queue_run.outputs["serviceNames"]["worker"]
    assert {"name": "ServiceName", "value": worker_name} in tasks["metricStat"]["metric"]["dimensions"]
    assert quotient["expression"] == "visible / tasks" and quotient["returnData"] is True
    assert visible["returnData"] is False and tasks["returnData"] is False
    # CPU tracking stays.
    assert resource(queue_run, POLICY, "worker-scaling-cpu").inputs["policyType"] == "TargetTrackingScaling"


def test_dev_scales_the_worker_to_zero_and_a_message_starts_one_task(dev_run, prod_run):
    target = resource(dev_run, "aws:appautoscaling/target:Target", "worker-scaling-target").inputs
    assert (target["minCapacity"], target["maxCapacity"]) == (0, 4)
    assert target["tags"] == {"ScalesFromZeroOn": "tasks"}
    step = resource(dev_run, POLICY, "worker-scaling-from-zero")
    config = step.inputs["stepScalingPolicyConfiguration"]
    assert step.inputs["policyType"] == "StepScaling"
    assert config["adjustmentType"] == "ExactCapacity"
    assert config["stepAdjustments"] == [{"metricIntervalLowerBound": "0", "scalingAdjustment": 1}]
    alarm = resource(dev_run, ALARM, "worker-scaling-from-zero").inputs
    assert alarm["alarmActions"] == [step.outputs["arn"]]
    assert (alarm["comparisonOperator"], alarm["threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    queries = {q["id"]: q for q in alarm["metricQueries"]}
    assert queries["visible"]["metric"]["metricName"] == "ApproximateNumberOfMessagesVisible"
    assert queries["tasks"]["metric"]["metricName"] == "RunningTaskCount"
    assert queries["waiting"]["expression"] == "IF(FILL(tasks, 0) < 1, visible, 0)"
    assert alarm["treatMissingData"] == "notBreaching"
    # prod keeps at least two workers: no step policy, no tag.
    prod_target = resource(prod_run, "aws:appautoscaling/target:Target", "worker-scaling-target").inputs
    assert prod_target["minCapacity"] == 2 and "tags" not in prod_target
    assert not [p for p in prod_run.of_type(POLICY) if p.name == "worker-scaling-from-zero"]


def test_oldest_message_and_dead_letters_alarm_the_topic_and_are_on_the_dashboard(queue_run):
    topic = queue_run.one("aws:sns/topic:Topic").outputs["arn"]
    prefix = f"webstack-{queue_run.stack}-"
    alarms = {a.inputs["name"].removeprefix(prefix): a.inputs for a in queue_run.of_type(ALARM)}
    queue = resource(queue_run, QUEUE, "tasks-queue").outputs["name"]
    dlq = resource(queue_run, QUEUE, "tasks-dlq").outputs["name"]
    age, dead = alarms["queue-tasks-oldest-message"], alarms["queue-tasks-dead-letters"]
    assert (age["metricName"], age["dimensions"], age["threshold"]) == ("ApproximateAgeOfOldestMessage",
                                                                        {"QueueName": queue}, 900)
    assert (dead["metricName"], dead["dimensions"], dead["threshold"]) == ("ApproximateNumberOfMessagesVisible",
                                                                          {"QueueName": dlq}, 0)
    for alarm in (age, dead):
        assert alarm["alarmActions"] == alarm["okActions"] == [topic]
        assert alarm["alarmDescription"].startswith("P1: ") and "worker" in alarm["alarmDescription"]
    body = json.loads(queue_run.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    titles = {w["properties"].get("title"): w["properties"] for w in body["widgets"] if w["type"] == "metric"}
    assert titles["tasks: oldest message (s)"]["metrics"][0][:4] == ["AWS/SQS", "ApproximateAgeOfOldestMessage",
                                                                    "QueueName", queue]
    assert titles["tasks: dead-letter queue"]["metrics"][0][3] == dlq


def test_a_fifo_queue_and_its_dead_letter_queue_are_both_fifo():
    def fifo(config):
        config["webstack:queues"]["tasks"]["fifo"] = True

    run = run_stack("dev", fifo)
    queue, dlq = resource(run, QUEUE, "tasks-queue").inputs, resource(run, QUEUE, "tasks-dlq").inputs
    assert queue["fifoQueue"] is dlq["fifoQueue"] is True
    assert queue["contentBasedDeduplication"] is True
    # The provider adds `.fifo` to a name generated from the prefix.
    assert (queue["namePrefix"], dlq["namePrefix"]) == ("tasks-", "tasks-dlq-")
    assert "name" not in queue
