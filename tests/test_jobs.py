"""Scheduled jobs in the whole program: the committed nightly job under mocks, down to its IAM documents."""

from __future__ import annotations

import json

import pytest

from preflight.capture import ProgramRun

SCHEDULE = "aws:scheduler/schedule:Schedule"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def resource(run: ProgramRun, type_: str, name: str):
    return next(r for r in run.of_type(type_) if r.name == name)


@pytest.fixture(params=["dev", "prod"])
def job_run(request) -> ProgramRun:
    return request.getfixturevalue(f"{request.param}_run")


def test_the_nightly_job_runs_its_task_definition_in_private_subnets_without_a_public_ip(job_run):
    schedule = resource(job_run, SCHEDULE, "clearsessions-schedule")
    assert schedule.inputs["scheduleExpression"] == "cron(0 3 * * ? *)"
    assert schedule.inputs["scheduleExpressionTimezone"] == "UTC"
    assert schedule.inputs["flexibleTimeWindow"] == {"mode": "OFF"}
    target = schedule.inputs["target"]
    ecs = target["ecsParameters"]
    task = resource(job_run, "aws:ecs/taskDefinition:TaskDefinition", "clearsessions-task")
    assert ecs["taskDefinitionArn"] == task.outputs["arn"]
    assert ecs["launchType"] == "FARGATE"
    network = ecs["networkConfiguration"]
    assert network["assignPublicIp"] is False
    vpc = job_run.one("awsx:ec2:Vpc")  # remote: only the component and its outputs exist under mocks
    assert network["subnets"] == vpc.outputs["privateSubnetIds"]
    job_sg = resource(job_run, "aws:ec2/securityGroup:SecurityGroup", "clearsessions-sg")
    assert network["securityGroups"] == [job_sg.id]
    assert target["retryPolicy"]["maximumRetryAttempts"] >= 0
    dlq = resource(job_run, "aws:sqs/queue:Queue", "clearsessions-dlq")
    assert target["deadLetterConfig"]["arn"] == dlq.outputs["arn"]
    assert dlq.inputs["sqsManagedSseEnabled"] is True and "fifoQueue" not in dlq.inputs
    command = json.loads(task.inputs["containerDefinitions"])[0]["command"]
    assert command == ["python", "manage.py", "clearsessions"]


def test_the_scheduler_role_may_only_run_this_family_and_pass_this_jobs_two_roles(job_run):
    trust = json.loads(resource(job_run, "aws:iam/role:Role", "clearsessions-scheduler").inputs["assumeRolePolicy"])
    [assume] = trust["Statement"]
    assert assume["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert set(assume["Condition"]["StringEquals"]) == {"aws:SourceAccount"}
    statements = json.loads(resource(job_run, ROLE_POLICY, "clearsessions-scheduler-run").inputs["policy"])["Statement"]
    by_action = {tuple(s["Action"]): s for s in statements}
    assert set(by_action) == {("ecs:RunTask",), ("iam:PassRole",), ("ecs:TagResource",), ("sqs:SendMessage",)}
    family = resource(job_run, "aws:ecs/taskDefinition:TaskDefinition", "clearsessions-task").inputs["family"]
    [run_task] = by_action[("ecs:RunTask",)]["Resource"]
    assert run_task.endswith(f":task-definition/{family}:*")
    roles = {resource(job_run, "aws:iam/role:Role", f"clearsessions-{r}").outputs["arn"]
             for r in ("execution", "task")}
    pass_role = by_action[("iam:PassRole",)]
    assert set(pass_role["Resource"]) == roles
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    assert by_action[("ecs:TagResource",)]["Condition"] == {"StringEquals": {"ecs:CreateAction": "RunTask"}}
    dlq = resource(job_run, "aws:sqs/queue:Queue", "clearsessions-dlq")
    assert by_action[("sqs:SendMessage",)]["Resource"] == [dlq.outputs["arn"]]
    assert not any("*" == r for s in statements for r in s["Resource"])


def test_a_failed_run_reaches_the_alert_topic_which_admits_eventbridge(job_run):
    rule = resource(job_run, "aws:cloudwatch/eventRule:EventRule", "clearsessions-failed")
    pattern = json.loads(rule.inputs["eventPattern"])
    assert pattern["detail-type"] == ["ECS Task State Change"]
    assert pattern["detail"]["lastStatus"] == ["STOPPED"]
    assert pattern["detail"]["containers"]["exitCode"] == [{"anything-but": 0}]
    target = resource(job_run, "aws:cloudwatch/eventTarget:EventTarget", "clearsessions-failed-alert")
    [topic] = job_run.of_type("aws:sns/topic:Topic")
    assert target.inputs["arn"] == topic.outputs["arn"]
    [topic_policy] = job_run.of_type("aws:sns/topicPolicy:TopicPolicy")
    statements = json.loads(topic_policy.inputs["policy"])["Statement"]
    events = [s for s in statements if s.get("Principal") == {"Service": "events.amazonaws.com"}]
    assert events and all("aws:SourceAccount" in json.dumps(s.get("Condition", {})) for s in events)
    key = next(k for k in job_run.of_type("aws:kms/key:Key") if topic.inputs["kmsMasterKeyId"] in (k.id, k.outputs["arn"]))
    key_statements = json.loads(key.inputs["policy"])["Statement"]
    events_key = [s for s in key_statements if s.get("Principal") == {"Service": "events.amazonaws.com"}]
    assert events_key and {"kms:GenerateDataKey*", "kms:Decrypt"} <= set(events_key[0]["Action"])
    alarm = resource(job_run, "aws:cloudwatch/metricAlarm:MetricAlarm", "clearsessions-dlq-alarm")
    assert alarm.inputs["metricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm.inputs["alarmActions"] == [topic.outputs["arn"]]
    assert alarm.delete_before_replace is True


def test_the_job_reaches_the_database_it_uses_and_only_egresses_otherwise(job_run):
    job_sg = resource(job_run, "aws:ec2/securityGroup:SecurityGroup", "clearsessions-sg")
    ingress = [r for r in job_run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
               if r.inputs.get("referencedSecurityGroupId") == job_sg.id]
    assert ingress and all(r.inputs["fromPort"] == 5432 for r in ingress)
    assert not [r for r in job_run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
                if r.inputs.get("securityGroupId") == job_sg.id]
