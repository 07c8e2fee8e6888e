"""Resilience and data safety: backups, Multi-AZ, protection, safe deployments, sane autoscaling."""

from __future__ import annotations

from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from pulumi_policy.proxy import UnknownValueError

from .common import (
    ADVISORY,
    MANDATORY,
    BUCKETS,
    ECR_REPOSITORY,
    KMS_KEY,
    CACHE_CLUSTER,
    ECS_SERVICE,
    LOAD_BALANCERS,
    RDS_CLUSTER,
    RDS_INSTANCE,
    REPLICATION_GROUP,
    EVENT_TARGET,
    SCALABLE_TARGET,
    SCALING_POLICY,
    SCHEDULE,
    SQS_QUEUE,
    SQS_REDRIVE_ALLOW_POLICY,
    UNKNOWN,
    StackChecker,
    fix,
    plain,
    present,
    truthy,
)

DATABASES = (RDS_INSTANCE, RDS_CLUSTER)
SCALING_METRICS = {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}


def _is_primary_database(args: ResourceValidationArgs) -> bool:
    return args.resource_type in DATABASES and not present(args.props, "replicateSourceDb") \
        and not present(args.props, "replicationSourceIdentifier")


def _rds_backups(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not _is_primary_database(args):
        return
    minimum = int(args.get_config().get("minRetentionDays", 7))
    days = int(args.props.get("backupRetentionPeriod") or 0)
    if days < minimum:
        report(fix(f"Automated backups are kept {days} day(s); at least {minimum} required.",
                   f"set backup_retention_period={minimum} or more (up to 35)."))


rds_backup_retention = ResourceValidationPolicy(
    name="rds-backup-retention",
    description="RDS databases must keep automated backups for at least the configured number of days.",
    validate=_rds_backups,
    enforcement_level=MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "minRetentionDays": {"type": "integer", "minimum": 1, "maximum": 35, "default": 7},
    }),
)


def _rds_multi_az(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == RDS_INSTANCE and _is_primary_database(args) and not truthy(args.props.get("multiAz")):
        report(fix("The database runs in a single availability zone.",
                   "set multi_az=True so a standby takes over within a minute or two."))


rds_multi_az = ResourceValidationPolicy(
    name="rds-multi-az",
    description="RDS instances must be Multi-AZ.",
    validate=_rds_multi_az,
    enforcement_level=MANDATORY,
)


def _rds_deletion_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in DATABASES and not truthy(args.props.get("deletionProtection")):
        report(fix("The database can be deleted by one API call.", "set deletion_protection=True."))


rds_deletion_protection = ResourceValidationPolicy(
    name="rds-deletion-protection",
    description="RDS databases must have deletion protection.",
    validate=_rds_deletion_protection,
    enforcement_level=MANDATORY,
)


def _rds_final_snapshot(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not _is_primary_database(args):
        return
    if truthy(args.props.get("skipFinalSnapshot")) or not present(args.props, "finalSnapshotIdentifier"):
        report(fix("Deleting the database would take no final snapshot.",
                   "set skip_final_snapshot=False and a final_snapshot_identifier."))


rds_final_snapshot = ResourceValidationPolicy(
    name="rds-final-snapshot",
    description="RDS databases must take a final snapshot when deleted.",
    validate=_rds_final_snapshot,
    enforcement_level=MANDATORY,
)


def _stateful_protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
    protected_types = args.get_config().get("resourceTypes") or [RDS_INSTANCE, RDS_CLUSTER]
    if args.resource_type in protected_types and not args.opts.protect:
        report(fix("This stateful resource is not protected: a refactor or `pulumi destroy` would delete it.",
                   "pass opts=pulumi.ResourceOptions(protect=True); unprotect deliberately with "
                   "`pulumi state unprotect` when retiring it."))


stateful_resources_protected = ResourceValidationPolicy(
    name="stateful-resources-protected",
    description="Stateful resources (databases by default) must be declared with the `protect` resource option.",
    validate=_stateful_protected,
    enforcement_level=MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "resourceTypes": {"type": "array", "items": {"type": "string"}, "default": [RDS_INSTANCE, RDS_CLUSTER]},
    }),
)


# Deleting the stack empties these before deleting them when the flag is on (AWS refuses otherwise).
EMPTIED_ON_DELETE = {**{bucket: "forceDestroy" for bucket in BUCKETS}, ECR_REPOSITORY: "forceDelete"}
SQS_DEFAULT_RETENTION_SECONDS = 345600  # 4 days
KMS_DEFAULT_DELETION_WINDOW_DAYS = 30


def _stateful_retained(args: ResourceValidationArgs, report: ReportViolation) -> None:
    config = args.get_config()
    flag = EMPTIED_ON_DELETE.get(args.resource_type)
    if flag and truthy(args.props.get(flag)) and not args.opts.protect:
        what = "objects" if args.resource_type in BUCKETS else "images"
        report(fix(f"{flag}=true: a `pulumi destroy` or a replacement deletes the {what} with it, and nothing protects it.",
                   f"set {flag}=False (AWS then refuses to delete it while it holds {what}) and "
                   "opts=pulumi.ResourceOptions(protect=True)."))
    elif args.resource_type == SQS_QUEUE:
        minimum = int(config.get("minQueueRetentionSeconds", SQS_DEFAULT_RETENTION_SECONDS))
        seconds = int(args.props.get("messageRetentionSeconds") or SQS_DEFAULT_RETENTION_SECONDS)
        if seconds < minimum:
            report(fix(f"The queue drops unread messages after {seconds} s; at least {minimum} s required.",
                       f"set message_retention_seconds={minimum} or more (up to 1209600, 14 days)."))
    elif args.resource_type == KMS_KEY:
        minimum = int(config.get("minKeyDeletionWindowDays", KMS_DEFAULT_DELETION_WINDOW_DAYS))
        days = int(args.props.get("deletionWindowInDays") or KMS_DEFAULT_DELETION_WINDOW_DAYS)
        if days < minimum:
            report(fix(f"A deleted key (and all data encrypted under it) is gone after {days} day(s); at least "
                       f"{minimum} required.", f"set deletion_window_in_days={minimum} or more (up to 30)."))


stateful_resources_retained = ResourceValidationPolicy(
    name="stateful-resources-retained",
    description="S3 buckets and ECR repositories must not be emptied on delete (forceDestroy/forceDelete) unless "
                "protected; SQS queues and KMS keys must keep messages and a deletion window for the configured time.",
    validate=_stateful_retained,
    enforcement_level=MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "minQueueRetentionSeconds": {"type": "integer", "minimum": 60, "maximum": 1209600,
                                     "default": SQS_DEFAULT_RETENTION_SECONDS},
        "minKeyDeletionWindowDays": {"type": "integer", "minimum": 7, "maximum": 30,
                                     "default": KMS_DEFAULT_DELETION_WINDOW_DAYS},
    }),
)


def _redis_failover(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != REPLICATION_GROUP:
        return
    props = args.props
    nodes = int(props.get("numCacheClusters") or 0) or (1 + int(props.get("replicasPerNodeGroup") or 0))
    if nodes < 2 or not truthy(props.get("automaticFailoverEnabled")) or not truthy(props.get("multiAzEnabled")):
        report(fix("The cache has no automatic Multi-AZ failover (needs 2+ nodes, automaticFailoverEnabled and "
                   "multiAzEnabled).",
                   "set num_cache_clusters=2 (a replica in another AZ), automatic_failover_enabled=True and "
                   "multi_az_enabled=True."))


redis_automatic_failover = ResourceValidationPolicy(
    name="redis-automatic-failover",
    description="Redis replication groups must fail over automatically to a replica in another AZ.",
    validate=_redis_failover,
    enforcement_level=MANDATORY,
)


def _elasticache_backups(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (REPLICATION_GROUP, CACHE_CLUSTER):
        return
    if args.resource_type == CACHE_CLUSTER and present(args.props, "replicationGroupId"):
        return  # snapshots are the replication group's
    if int(args.props.get("snapshotRetentionLimit") or 0) < 1:
        report(fix("The cache keeps no automatic snapshots.", "set snapshot_retention_limit to 1 or more days."))


elasticache_backups = ResourceValidationPolicy(
    name="elasticache-backups",
    description="ElastiCache should keep automatic snapshots.",
    validate=_elasticache_backups,
    enforcement_level=ADVISORY,
)


# ECS's traffic-shifting strategies: the circuit breaker does not apply to them (AWS: "can only be used for
# services using the rolling update deployment type"); their deployment alarms roll them back.
TRAFFIC_SHIFTING_STRATEGIES = ("BLUE_GREEN", "CANARY", "LINEAR")


def _circuit_breaker(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ECS_SERVICE:
        return
    controller = (args.props.get("deploymentController") or {}).get("type", "ECS")
    if controller != "ECS":
        return
    strategy = str((args.props.get("deploymentConfiguration") or {}).get("strategy") or "ROLLING")
    if strategy in TRAFFIC_SHIFTING_STRATEGIES:
        alarms = args.props.get("alarms") or {}
        if not truthy(alarms.get("enable")) or not truthy(alarms.get("rollback")) or not alarms.get("alarmNames"):
            report(fix(f"A {strategy} deployment has no circuit breaker, and no deployment alarms roll it back.",
                       "set alarms={'enable': True, 'rollback': True, 'alarm_names': [<the service's 5xx and "
                       "unhealthy-host alarms>]} (stack config: keep services.<name>.deployment.alarms on)."))
        return
    breaker = args.props.get("deploymentCircuitBreaker") or {}
    if not truthy(breaker.get("enable")) or not truthy(breaker.get("rollback")):
        report(fix("A failing deployment is not stopped and rolled back automatically.",
                   "set deployment_circuit_breaker={'enable': True, 'rollback': True}."))


ecs_deployment_circuit_breaker = ResourceValidationPolicy(
    name="ecs-deployment-circuit-breaker",
    description="ECS services roll back a failed deployment: the circuit breaker with rollback (rolling), or "
                "deployment alarms with rollback (blue/green, canary, linear).",
    validate=_circuit_breaker,
    enforcement_level=MANDATORY,
)


# Set by components/autoscaling.py on a queue consumer's scalable target: the queue whose first message
# starts a task when none runs.
SCALES_FROM_ZERO_TAG = "ScalesFromZeroOn"


def _min_tasks(args: ResourceValidationArgs, report: ReportViolation) -> None:
    minimum = int(args.get_config().get("minTasks", 2))
    if args.resource_type == ECS_SERVICE:
        if str(args.props.get("schedulingStrategy") or "REPLICA") != "REPLICA":
            return
        count = int(args.props.get("desiredCount") if args.props.get("desiredCount") is not None else 1)
        if count < minimum:
            report(fix(f"The service starts {count} task(s); at least {minimum} required.",
                       f"set desired_count={minimum} or more (and the scaling minimum alike)."))
    elif args.resource_type == SCALABLE_TARGET and args.props.get("serviceNamespace") == "ecs":
        floor = int(args.props.get("minCapacity") or 0)
        tags = plain(args.props.get("tags")) or {}
        if floor == 0 and truthy(args.get_config().get("queueWorkersMayScaleToZero")) \
                and isinstance(tags, dict) and tags.get(SCALES_FROM_ZERO_TAG):
            return  # a queue worker that a visible message starts again (its step policy); dev only
        if floor < minimum:
            report(fix(f"Autoscaling may scale the service down to {floor} task(s); at least {minimum} required.",
                       f"set min_capacity={minimum} or more."))


ecs_service_min_tasks = ResourceValidationPolicy(
    name="ecs-service-min-tasks",
    description="ECS services must run, and scale down to no fewer than, the configured number of tasks.",
    validate=_min_tasks,
    enforcement_level=MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "minTasks": {"type": "integer", "minimum": 1, "default": 2},
        # A scalable target tagged ScalesFromZeroOn (a queue worker with a 0 -> 1 step policy) may have
        # minCapacity 0 where this is true (dev, lean); never in prod.
        "queueWorkersMayScaleToZero": {"type": "boolean", "default": False},
    }),
)


def _autoscaling(args: StackValidationArgs, report: ReportViolation) -> None:
    checker = StackChecker(args, report)
    require_every_service = checker.config.get("requireEveryService", True)
    targets = [t for t in checker.of_type(SCALABLE_TARGET)
               if checker.attempt(t, lambda: t.props.get("serviceNamespace"), "ecs") == "ecs"]
    policies = checker.of_type(SCALING_POLICY)
    for service in checker.of_type(ECS_SERVICE):
        service_targets = checker.linking_to(service, targets, "resourceId")
        if not service_targets:
            if require_every_service:
                checker.violation(service, fix(
                    "The service has no autoscaling target.",
                    "add an aws.appautoscaling.Target (ecs:service:DesiredCount) with a target-tracking policy.",
                ))
            continue
        if "desiredCount" not in service.opts.ignore_changes:
            checker.violation(service, fix(
                "The service is autoscaled but `desiredCount` is not ignored: every `pulumi up` resets the "
                "running task count to the declared one.",
                "pass opts=pulumi.ResourceOptions(ignore_changes=['desiredCount']).",
            ))
        for target in service_targets:
            bounds = checker.attempt(target, lambda: (int(target.props.get("minCapacity")), int(target.props.get("maxCapacity"))))
            if bounds and bounds[1] <= bounds[0]:
                checker.violation(target, fix(
                    f"The scalable target cannot scale (min {bounds[0]}, max {bounds[1]}).",
                    "set max_capacity above min_capacity.",
                ))
            target_policies = [p for p in policies if checker.links(p, target, "resourceId")
                               or checker.links(p, service, "resourceId")]
            metrics = set()
            for policy in target_policies:
                configuration = checker.attempt(policy, lambda: plain(policy.props.get("targetTrackingScalingPolicyConfiguration")), UNKNOWN)
                if configuration is UNKNOWN:
                    metrics.add(UNKNOWN)  # cannot tell yet; noted as skipped, never reported
                    continue
                metric = ((configuration or {}).get("predefinedMetricSpecification") or {}).get("predefinedMetricType")
                metrics.add(metric)
            if UNKNOWN not in metrics and not metrics & SCALING_METRICS:
                checker.violation(target, fix(
                    "The service scales on no CPU or request-count target-tracking policy.",
                    "add an aws.appautoscaling.Policy (TargetTrackingScaling) on ECSServiceAverageCPUUtilization "
                    "and/or ALBRequestCountPerTarget.",
                ))
    checker.finish()


ecs_autoscaling_configured = StackValidationPolicy(
    name="ecs-autoscaling-configured",
    description="ECS services must be autoscaled: a scalable target with max > min, a CPU or request-count "
                "target-tracking policy, and `desiredCount` in ignoreChanges.",
    validate=_autoscaling,
    enforcement_level=MANDATORY,
    config_schema=PolicyConfigSchema(properties={"requireEveryService": {"type": "boolean", "default": True}}),
)


def _alb_deletion_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in LOAD_BALANCERS and not truthy(args.props.get("enableDeletionProtection")):
        report(fix("The load balancer (and with it the DNS name clients use) can be deleted by one call.",
                   "set enable_deletion_protection=True."))


alb_deletion_protection = ResourceValidationPolicy(
    name="alb-deletion-protection",
    description="Load balancers must have deletion protection.",
    validate=_alb_deletion_protection,
    enforcement_level=MANDATORY,
)


def _dead_letter_targets(checker: StackChecker, sender, queues: list) -> list:
    """The queues a Scheduler schedule (`target.deadLetterConfig.arn`) or an EventBridge target
    (`deadLetterConfig.arn`) sends what it could not deliver to; by dependency while the ARN is unknown."""
    try:
        config = plain(sender.props.get("target") or {}).get("deadLetterConfig") if sender.resource_type == SCHEDULE \
            else plain(sender.props.get("deadLetterConfig"))
    except UnknownValueError:
        return checker.linked(sender, queues, "target" if sender.resource_type == SCHEDULE else "deadLetterConfig")
    arn = (config or {}).get("arn")
    return [queue for queue in queues if arn and arn in checker.identities(queue)]


def _dead_letter_queues(args: StackValidationArgs, report: ReportViolation) -> None:
    """Every queue has a dead-letter queue, except the dead-letter queues themselves: another queue's redrive
    target, a queue a redrive allow policy opens to sources, or a Scheduler schedule's or EventBridge target's
    dead-letter queue."""
    checker = StackChecker(args, report)
    queues = checker.of_type(SQS_QUEUE)
    dead_letter_queues = set()
    for queue in queues:
        if present(queue.props, "redriveAllowPolicy"):
            dead_letter_queues.add(queue.urn)
    for source in queues:
        if present(source.props, "redrivePolicy"):
            dead_letter_queues.update(q.urn for q in checker.linked(source, queues, "redrivePolicy"))
    for allow in checker.of_type(SQS_REDRIVE_ALLOW_POLICY):
        dead_letter_queues.update(q.urn for q in checker.linked(allow, queues, "queueUrl"))
    for sender in checker.of_type(SCHEDULE, EVENT_TARGET):
        dead_letter_queues.update(q.urn for q in _dead_letter_targets(checker, sender, queues))
    for queue in queues:
        if queue.urn in dead_letter_queues:
            continue
        if not checker.attempt(queue, lambda q=queue: present(q.props, "redrivePolicy"), default=True):
            checker.violation(queue, fix(
                "The SQS queue has no dead-letter queue (no redrivePolicy): a message its consumer keeps failing on "
                "is received again and again until retention deletes it, unseen.",
                "give it a redrive policy to an encrypted dead-letter queue with a maxReceiveCount "
                "(webstack:queues.<name> builds both, with an alarm on the dead-letter queue)."))
    checker.finish()


sqs_dead_letter_queue = StackValidationPolicy(
    name="sqs-dead-letter-queue",
    description="Every SQS queue that is not itself a dead-letter queue has one (a redrivePolicy).",
    validate=_dead_letter_queues,
    enforcement_level=MANDATORY,
)


POLICIES = [
    rds_backup_retention,
    rds_multi_az,
    rds_deletion_protection,
    rds_final_snapshot,
    stateful_resources_protected,
    stateful_resources_retained,
    redis_automatic_failover,
    elasticache_backups,
    ecs_deployment_circuit_breaker,
    ecs_service_min_tasks,
    ecs_autoscaling_configured,
    alb_deletion_protection,
    sqs_dead_letter_queue,
]
