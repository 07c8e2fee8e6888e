"""Monitoring: the alert topic and its email subscribers, the seeds' alarms, and the stack's dashboard.

The topic is encrypted with its own KMS key (rotated yearly): CloudWatch cannot publish to a topic
encrypted with the AWS managed `alias/aws/sns` key, whose policy cannot grant it access, so the key
policy here lets CloudWatch alarms and EventBridge rules (failed scheduled jobs) use this key and nothing
else; the topic policy lets both publish on behalf of this account only.

Which alarms exist depends only on plain config (services, their scaling.min, whether a database or
cache exists and how many nodes it has), never on an Output, so a preview shows them all.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws

from helpers.alarms import (
    AlarmSpec, Metric, alarm_name, aurora_alarms, cache_alarms, database_alarms, load_balancer_alarms, queue_alarms,
    service_alarms, target_group_alarms, waf_alarms,
)
from helpers.dashboard import (
    DatabasePanels, QueuePanels, ServicePanels, WebAclPanels, dashboard_body, dashboard_name,
)
from helpers.database import max_connections as class_max_connections
from helpers.database import memory_mib as class_memory_mib
from stackconfig.monitoring import MonitoringConfig


@dataclass(frozen=True)
class MonitoredService:
    service_name: pulumi.Input[str]
    # None for a service without routes: no target group alarms or panels.
    target_group_arn_suffix: Optional[pulumi.Input[str]]
    # scaling.min: fewer running tasks than this pages; 0 means no running-task alarm.
    min_tasks: int
    # The second target group of a blue/green, canary or linear service: its 5xx and unhealthy-host alarms
    # cover both groups.
    alternate_target_group_arn_suffix: Optional[pulumi.Input[str]] = None


@dataclass(frozen=True)
class MonitoredDatabase:
    instance_identifier: pulumi.Input[str]
    # The connection alarm is a share of this class's max_connections (seed 002's table).
    instance_class: str
    allocated_storage_gib: int

    @property
    def max_connections(self) -> int:
        return class_max_connections(self.instance_class)

    @property
    def memory_mib(self) -> int:
        return class_memory_mib(self.instance_class)


@dataclass(frozen=True)
class MonitoredAuroraInstance:
    instance_identifier: str
    max_connections: int
    # Serverless v2's maximum ACUs (None: a provisioned class).
    max_acu: Optional[float]
    reader: bool


@dataclass(frozen=True)
class MonitoredCache:
    member_cluster_ids: pulumi.Input[list[str]]
    # Plain node count from config: one set of alarms per member, declared before the ids are known.
    node_count: int


@dataclass(frozen=True)
class MonitoredQueue:
    queue_name: pulumi.Input[str]
    dead_letter_queue_name: pulumi.Input[str]
    # The service that consumes it: named in the alarms' what-to-do.
    consumer: str


@dataclass(frozen=True)
class MonitoringArgs:
    settings: MonitoringConfig
    region: str
    account_id: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    load_balancer_arn_suffix: pulumi.Input[str]
    services: Mapping[str, MonitoredService]
    # "primary", "replica-1", ...: every instance gets the same alarms.
    databases: Mapping[str, MonitoredDatabase] = field(default_factory=dict)
    # "writer", "reader-1", ...: each Aurora instance.
    aurora_instances: Mapping[str, MonitoredAuroraInstance] = field(default_factory=dict)
    cache: Optional[MonitoredCache] = None
    # Work queues by their config name: oldest-message and dead-letter alarms, one dashboard row each.
    queues: Mapping[str, MonitoredQueue] = field(default_factory=dict)
    # The WAF web ACL (its metric name is plain, so known at preview): blocked-requests alarm and a dashboard panel.
    web_acl: Optional[WebAclPanels] = None


def subscription_name(email: str) -> str:
    """A resource name that follows the address, not its position in the list."""
    return re.sub(r"[^a-z0-9]+", "-", email.lower()).strip("-")


def subscription_names(emails: list[str]) -> dict[str, str]:
    """Each address's resource name. Distinct addresses can share a `subscription_name`
    (`a.b@x.com`, `a-b@x.com`): a later one gets a hash of the address, so earlier ones keep theirs."""
    names: dict[str, str] = {}
    for email in emails:
        name = subscription_name(email)
        if name in names.values():
            name = f"{name}-{hashlib.sha256(email.lower().encode()).hexdigest()[:8]}"
        names[email] = name
    return names


class Monitoring(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    dashboard_name: pulumi.Output[str]
    alarms: dict[str, aws.cloudwatch.MetricAlarm]

    def __init__(self, name: str, args: MonitoringArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:monitoring:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = f"{pulumi.get_project()}-{pulumi.get_stack()}"
        settings = args.settings

        self.key = aws.kms.Key(
            f"{name}-alerts-key",
            description=f"{prefix}: encrypts the alert topic; CloudWatch alarms may use it to publish",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=pulumi.Output.from_input(args.account_id).apply(_key_policy),
            opts=child,
        )
        self.topic = aws.sns.Topic(
            f"{name}-alerts",
            display_name=f"{prefix} alerts",
            kms_master_key_id=self.key.arn,
            opts=child,
        )
        # A topic policy replaces SNS's default one: the account keeps managing the topic, CloudWatch alarms
        # and EventBridge rules (scheduled jobs' failures) of this account may publish.
        aws.sns.TopicPolicy(
            f"{name}-alerts-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, args.account_id).apply(
                lambda values: json.dumps(topic_policy(*values))
            ),
            opts=child,
        )
        for email, resource_name in subscription_names(settings.alert_emails).items():
            aws.sns.TopicSubscription(
                f"{name}-{resource_name}",
                topic=self.topic.arn,
                protocol="email",
                endpoint=email,
                opts=child,
            )

        alarms = settings.alarms
        specs: list[AlarmSpec] = load_balancer_alarms(args.load_balancer_arn_suffix, alarms)
        for service, target in args.services.items():
            specs += service_alarms(service, args.cluster_name, target.service_name, target.min_tasks, alarms)
            if target.target_group_arn_suffix is not None:
                specs += target_group_alarms(service, args.load_balancer_arn_suffix, target.target_group_arn_suffix,
                                             alarms, target.alternate_target_group_arn_suffix)
        for label, database in args.databases.items():
            specs += database_alarms(f"db-{label}", database.instance_identifier, database.max_connections,
                                     database.allocated_storage_gib, alarms, memory_mib=database.memory_mib)
        for label, instance in args.aurora_instances.items():
            specs += aurora_alarms(f"db-{label}", instance.instance_identifier, instance.max_connections,
                                   instance.max_acu, instance.reader, alarms)
        if args.cache is not None:
            member_ids = pulumi.Output.from_input(args.cache.member_cluster_ids)
            for index in range(args.cache.node_count):
                specs += cache_alarms(f"cache-{index + 1}", member_ids.apply(lambda ids, i=index: ids[i]), alarms)
        for queue, watched in args.queues.items():
            specs += queue_alarms(queue, watched.queue_name, watched.dead_letter_queue_name, watched.consumer, alarms)
        if args.web_acl is not None:
            specs += waf_alarms(args.web_acl.metric_name, args.web_acl.region_dimension, alarms)
        keys = [spec.key for spec in specs]
        clashes = sorted({key for key in keys if keys.count(key) > 1})
        if clashes:
            # A service named like a data-tier label ("db-primary", "cache-1") would declare the same alarm twice.
            raise ValueError(
                f"alarm names {', '.join(clashes)} are declared twice: rename the service whose name starts "
                f"with 'db-' or 'cache-' (those prefixes name the database and cache alarms)"
            )
        self.alarms = {spec.key: self._alarm(name, spec) for spec in specs}

        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=dashboard_name(pulumi.get_project(), pulumi.get_stack()),
            dashboard_body=self._dashboard_body(args),
            # A fixed name: created first, a replacement would be overwritten in place (PutDashboard) and
            # then removed by the old one's delete.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )

        self.topic_arn = self.topic.arn
        self.dashboard_name = self.dashboard.dashboard_name
        self.register_outputs({
            "topicArn": self.topic_arn,
            "dashboardName": self.dashboard_name,
            "alarmNames": [alarm.name for alarm in self.alarms.values()],
        })

    def _alarm(self, name: str, spec: AlarmSpec) -> aws.cloudwatch.MetricAlarm:
        metric = spec.metric
        return aws.cloudwatch.MetricAlarm(
            f"{name}-{spec.key}",
            name=alarm_name(pulumi.get_project(), pulumi.get_stack(), spec.key),
            alarm_description=spec.description,
            comparison_operator=spec.comparison,
            threshold=spec.threshold,
            evaluation_periods=spec.timing.evaluation_periods,
            datapoints_to_alarm=spec.timing.datapoints,
            treat_missing_data=spec.treat_missing_data,
            actions_enabled=True,
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
            namespace=metric.namespace if metric else None,
            metric_name=metric.name if metric else None,
            dimensions=dict(metric.dimensions) if metric else None,
            statistic=metric.statistic if metric else None,
            extended_statistic=metric.extended_statistic if metric else None,
            period=spec.timing.period if metric else None,
            metric_queries=[
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id=term.id,
                    label=term.label,
                    expression=term.expression,
                    return_data=term.return_data,
                    metric=_query_metric(term.metric, spec.timing.period) if term.metric else None,
                )
                for term in spec.math
            ] or None,
            # A fixed name: created first, a replacement would be overwritten in place (PutMetricAlarm) and
            # then removed by the old one's delete.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )

    @staticmethod
    def _dashboard_body(args: MonitoringArgs) -> pulumi.Output[str]:
        services = {
            name: pulumi.Output.all(target.service_name, target.target_group_arn_suffix,
                                    target.alternate_target_group_arn_suffix).apply(
                lambda values, t=target: ServicePanels(values[0], values[1], t.min_tasks, values[2])
            )
            for name, target in args.services.items()
        }
        databases = {
            label: pulumi.Output.from_input(database.instance_identifier).apply(
                lambda identifier, d=database: DatabasePanels(identifier, d.max_connections)
            )
            for label, database in args.databases.items()
        }
        databases.update({label: DatabasePanels(instance.instance_identifier, instance.max_connections)
                          for label, instance in args.aurora_instances.items()})
        cache_ids = args.cache.member_cluster_ids if args.cache is not None else []
        queues = {
            name: pulumi.Output.all(watched.queue_name, watched.dead_letter_queue_name).apply(
                lambda values: QueuePanels(*values)
            )
            for name, watched in args.queues.items()
        }
        return pulumi.Output.all(
            cluster=args.cluster_name,
            load_balancer=args.load_balancer_arn_suffix,
            services=pulumi.Output.all(**services) if services else {},
            databases=pulumi.Output.all(**databases) if databases else {},
            cache_ids=cache_ids,
            queues=pulumi.Output.all(**queues) if queues else {},
        ).apply(lambda values: json.dumps(dashboard_body(
            region=args.region,
            cluster_name=values["cluster"],
            load_balancer_arn_suffix=values["load_balancer"],
            services=values["services"],
            alarms=args.settings.alarms,
            databases=values["databases"],
            cache_cluster_ids=values["cache_ids"],
            queues=values["queues"],
            web_acl=args.web_acl,
        )))


def _query_metric(metric: Metric, period: int) -> aws.cloudwatch.MetricAlarmMetricQueryMetricArgs:
    return aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
        namespace=metric.namespace,
        metric_name=metric.name,
        dimensions=dict(metric.dimensions),
        stat=metric.statistic or metric.extended_statistic,
        period=period,
    )


def _key_policy(account_id: str) -> str:
    """The account administers the key (the default key policy); CloudWatch alarms and EventBridge rules may
    encrypt the messages they publish."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersTheKey",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchAlarmsPublishToTheTopic",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
            },
            {
                "Sid": "EventBridgeRulesPublishToTheTopic",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
            },
        ],
    })


def topic_policy(topic_arn: str, account_id: str) -> dict:
    """The account manages the topic; CloudWatch alarms and EventBridge rules of this account publish to it."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountManagesTheTopic",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": ["sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission",
                           "sns:RemovePermission", "sns:DeleteTopic", "sns:Subscribe", "sns:ListSubscriptionsByTopic",
                           "sns:Publish"],
                "Resource": topic_arn,
            },
            {
                "Sid": "CloudWatchAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
            {
                "Sid": "EventBridgeRulesPublish",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        ],
    }
