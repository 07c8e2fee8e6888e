"""Cross-field config rules: each refuses a bad combination naming the exact key, its value and what is allowed,
accepts the good one next to it, and runs even when other keys of the stack file are invalid."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from stackconfig import rules, validate_stack_config
from stackconfig.rules import RULES
from tests.test_config import raw

DELETE = object()
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:{}-AbCdEf"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
HOW_TO = "pulumi config set --secret --path 'webstack:appSecrets.{name}' <value>"


def changed(stack: str, edits: dict[str, Any]) -> dict:
    """A committed stack's raw config with `edits` applied (`a.b.c` paths; DELETE removes the key)."""
    values = raw(stack)
    for path, value in edits.items():
        target = values
        *parents, last = path.split(".")
        for key in parents:
            target = target.setdefault(key, {})
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return values


def problems_of(stack: str, edits: dict[str, Any]) -> list[str]:
    with pytest.raises(pulumi.RunError) as caught:
        validate_stack_config(changed(stack, edits))
    return [line.strip() for line in str(caught.value).splitlines()[1:]]


def schedule(name: str, low: int, high: int) -> dict:
    return {"name": name, "schedule": "cron(0 22 ? * MON-FRI *)", "min": low, "max": high}


JOB = {"imageFrom": "backend", "command": ["python", "manage.py", "clearsessions"], "schedule": "rate(1 day)"}
# An internal service: a port reachable by name, no route through the load balancer.
INTERNAL = {"image": {"repository": "backend", "tag": "2f1c9e0"}, "port": 9000, "connect": {},
            "command": ["gunicorn", "search.wsgi", "--bind", "0.0.0.0:9000"], "scaling": {"min": 1, "max": 2}}

# (rule, stack, edits, every problem of the stack file, in order)
REFUSED = [
    (rules._media_access_logs, "dev", {"storage.accessLogs": True}, [
        "webstack:storage.accessLogs = true: the server access logs go to the access-log bucket, which "
        "accessLogs.enabled unset outside prod leaves out; set accessLogs.enabled: true, or storage.accessLogs: false",
    ]),
    (rules._media_access_logs, "prod", {"storage.accessLogsPrefix": "alb/media/"}, [
        'webstack:storage.accessLogsPrefix = "alb/media/": inside accessLogs.prefix "alb", where the load balancer '
        'writes; give the bucket\'s logs a prefix of their own (e.g. "media/")',
    ]),
    (rules._waf_overrides_of_used_groups, "dev", {"loadBalancer.waf": {
        "sqlInjectionRules": False, "ruleOverrides": {"AWSManagedRulesSQLiRuleSet": {"SQLi_BODY": "count"}}}}, [
        "webstack:loadBalancer.waf.ruleOverrides.AWSManagedRulesSQLiRuleSet: the web ACL does not run this rule "
        "group: loadBalancer.waf.sqlInjectionRules is off (unset, it is on only with webstack:database); it runs "
        "AWSManagedRulesAmazonIpReputationList, AWSManagedRulesCommonRuleSet, AWSManagedRulesKnownBadInputsRuleSet",
    ]),
    (rules._cloudfront_waf_region, "lean", {"region": "eu-west-1", "network.availabilityZones": ["eu-west-1a", "eu-west-1b"],
                                            "frontend.certificateArn": CERTIFICATE, "loadBalancer.waf.enabled": True}, [
        "webstack:loadBalancer.waf.enabled = true: with webstack:frontend the web ACL protects the CloudFront "
        "distribution, so it, its metrics and its blocked-requests alarm live in us-east-1, and an alarm cannot "
        "notify the alert topic in aws:region eu-west-1; set false (and keep alb-waf-attached advisory) or deploy in "
        "us-east-1",
    ]),
    (rules._load_balancer_settings, "dev", {"services.backend.port": DELETE}, [
        "webstack:services.backend.routes: the load balancer needs a container port to send these requests to: set "
        "services.backend.port, or remove the routes for a service that is not behind the load balancer (a worker)",
        "webstack:services.backend.connect: Service Connect makes the container port reachable by name: set "
        "services.backend.port, or remove connect",
    ]),
    (rules._load_balancer_settings, "dev", {"services.backend.routes": DELETE,
                                            "services.backend.stickiness": {"type": "lb_cookie"},
                                            "services.backend.scaling.requestsPerTarget": 500}, [
        "webstack:services.backend.stickiness: sticky sessions are a load balancer setting; this service has no "
        "services.backend.routes (remove stickiness or add routes)",
        "webstack:services.backend.scaling.requestsPerTarget = 500: tracks the load balancer's requests per task; "
        "this service has no services.backend.routes (remove requestsPerTarget or add routes)",
    ]),
    (rules._nat_instance_settings, "dev", {"network.natGateways": "single"}, [
        "webstack:network.natInstance: only used with network.natGateways instance or instancePerAz, not "
        "'single'; remove it (or set natGateways: instance)",
    ]),
    (rules._nat_instance_image, "dev", {"network.natInstance.instanceType": "t3.nano"}, [
        'webstack:network.natInstance.amiName = "fck-nat-al2023-hvm-1.4.0-20260126-arm64-ebs": an arm64 image but '
        "network.natInstance.instanceType t3.nano is x86_64: the Auto Scaling group could never launch it (use "
        "t4g.* with arm64 images, t3.* with x86_64)",
    ]),
    (rules._distinct_zones, "dev", {"network.availabilityZones": ["us-east-1a", "us-east-1b", "us-east-1a"]}, [
        'webstack:network.availabilityZones[2] = "us-east-1a": listed twice (also network.availabilityZones[0]); '
        "list each availability zone once",
    ]),
    (rules._zones_in_region, "dev", {"network.availabilityZones": ["us-east-1a", "us-west-2b"]}, [
        'webstack:network.availabilityZones[1] = "us-west-2b": not in aws:region us-east-1; use a zone of us-east-1 '
        "such as us-east-1a",
    ]),
    (rules._subnets_fit, "dev", {"network.subnetMask": 20}, [
        "webstack:network.subnetMask = 20: 3 subnets of /20 (one per tier: public, private, isolated) do not fit in "
        "each AZ's /19 block of network.cidr 10.10.0.0/16 (2 fit); use a subnetMask of 21 to 28",
    ]),
    (rules._subnets_fit, "dev", {"network.cidr": "10.0.0.0/24"}, [
        "webstack:network.subnetMask = 21: 3 subnets of /21 (one per tier: public, private, isolated) do not fit in "
        "each AZ's /27 block of network.cidr 10.0.0.0/24 (0 fit); use a network.cidr of /23 or larger",
    ]),
    (rules._tag_or_digest, "dev", {"services.backend.image": {"repository": "backend"}}, [
        "webstack:services.backend.image: set exactly one of services.backend.image.tag (e.g. the git SHA) or "
        "services.backend.image.digest (sha256:...); neither is set",
    ]),
    (rules._tag_or_digest, "dev", {"services.backend.image": {"repository": "backend", "tag": "v1",
                                                               "digest": "sha256:" + "a" * 64}}, [
        f'webstack:services.backend.image.digest = "sha256:{"a" * 64}": set exactly one of tag or digest; '
        "services.backend.image.tag is set too",
    ]),
    (rules._listener_rule_conditions, "dev", {"services.backend.routes": {"priority": 10}}, [
        "webstack:services.backend.routes: a route needs at least one of services.backend.routes.paths or "
        "services.backend.routes.hosts",
    ]),
    (rules._listener_rule_conditions, "dev", {"services.backend.routes": {
        "paths": ["/a/*", "/b/*", "/c/*", "/d/*", "/e/*"], "hosts": ["api.example.com"], "priority": 10}}, [
        "webstack:services.backend.routes: 6 paths and hosts in one rule; AWS allows at most 5 condition values per "
        "listener rule (split the service's routes or use wildcards)",
    ]),
    (rules._listener_rule_conditions, "dev", {"services.backend.routes": {
        "paths": ["/a/*/b/*", "/c/*/d/?", "/e/*"], "hosts": ["*.example.com"], "priority": 10}}, [
        "webstack:services.backend.routes: 6 wildcards (* and ?) in one rule's paths and hosts; AWS allows at most 5 "
        "per listener rule",
    ]),
    (rules._fargate_size, "dev", {"services.backend.memory": 3000}, [
        "webstack:services.backend.memory = 3000: with cpu 512 Fargate accepts memory of 1024-4096 MiB in steps of "
        "1024 MiB",
    ]),
    (rules._fargate_size, "dev", {"services.backend.cpu": 8192, "services.backend.memory": 18432}, [
        "webstack:services.backend.memory = 18432: with cpu 8192 Fargate accepts memory of 16384-61440 MiB in steps "
        "of 4096 MiB",
    ]),
    (rules._timeout_below_interval, "dev", {"services.backend.healthCheck.interval": 10,
                                           "services.backend.healthCheck.timeout": 10}, [
        "webstack:services.backend.healthCheck.timeout = 10: must be less than "
        "services.backend.healthCheck.interval (10 s)",
    ]),
    (rules._stickiness_cookie, "dev", {"services.backend.stickiness": {"type": "app_cookie"}}, [
        'webstack:services.backend.stickiness.type = "app_cookie": needs services.backend.stickiness.cookieName '
        "(the application's session cookie)",
    ]),
    (rules._stickiness_cookie, "dev", {"services.backend.stickiness": {"type": "lb_cookie", "cookieName": "sid"}}, [
        'webstack:services.backend.stickiness.cookieName = "sid": is only used with '
        "services.backend.stickiness.type app_cookie (type is lb_cookie)",
    ]),
    (rules._scaling, "dev", {"services.backend.scaling": {"min": 3, "max": 2}}, [
        "webstack:services.backend.scaling.min = 3: must not exceed services.backend.scaling.max (2)",
    ]),
    (rules._scaling, "dev", {"services.backend.scaling": {"min": 1, "desired": 4, "max": 3}}, [
        "webstack:services.backend.scaling.desired = 4: must be between services.backend.scaling.min (1) and "
        "services.backend.scaling.max (3)",
    ]),
    (rules._scaling, "dev", {"services.backend.scaling.scaleOutCooldown": 600}, [
        "webstack:services.backend.scaling.scaleOutCooldown = 600: longer than "
        "services.backend.scaling.scaleInCooldown (300 s) makes the service slow to grow and quick to shrink; keep "
        "scale-out at most scale-in",
    ]),
    (rules._scaling, "dev", {"services.backend.scaling.schedules": [schedule("night", 3, 1),
                                                                    schedule("night", 1, 5)]}, [
        "webstack:services.backend.scaling.schedules[0].min = 3: must not exceed "
        "services.backend.scaling.schedules[0].max (1)",
        'webstack:services.backend.scaling.schedules[1].name = "night": used by '
        "services.backend.scaling.schedules[0] too; schedule names are unique within a service",
    ]),
    (rules._room_to_deploy, "dev", {"services.backend.deployment": {"minimumHealthyPercent": 100,
                                                                    "maximumPercent": 100}}, [
        "webstack:services.backend.deployment.maximumPercent = 100: equals "
        "services.backend.deployment.minimumHealthyPercent (100): ECS could neither start a new task nor stop an old "
        "one, so no deployment would ever progress; raise maximumPercent (e.g. 200) or lower minimumHealthyPercent",
    ]),
    (rules._spot_runs_x86_only, "dev", {"services.backend.architecture": "arm64"}, [
        "webstack:services.backend.spot = true: cannot run with services.backend.architecture arm64: Fargate Spot "
        "has no ARM64 capacity; choose one (ARM is ~20 % cheaper on demand, Spot up to ~70 % cheaper on x86_64)",
    ]),
    (rules._no_plaintext_secrets, "dev", {"services.backend.environment": {"SENTRY_DSN": "https://k@o1.ingest.io/1"}}, [
        "webstack:services.backend.environment.SENTRY_DSN: must not be plaintext (its name looks like a secret); "
        "declare it under secrets instead: `secrets: {SENTRY_DSN: {secretsManagerArn: "
        "arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf}}` for an existing secret, or "
        f"`secrets: {{SENTRY_DSN: {{fromConfig: <key>}}}}` after `{HOW_TO.format(name='<key>')}`",
    ]),
    (rules._secret_references, "dev", {"services.backend.secrets": {"JWT_SECRET": {
        "secretsManagerArn": ARN.format("jwt"), "fromConfig": "jwt"}}}, [
        "webstack:services.backend.secrets.JWT_SECRET: set exactly one of secretsManagerArn or fromConfig",
        'webstack:services.backend.secrets.JWT_SECRET.fromConfig = "jwt": webstack:appSecrets has no \'jwt\'; set '
        f"it with `{HOW_TO.format(name='jwt')}`",
    ]),
    (rules._secret_references, "dev", {"services.backend.secrets": {
        "DJANGO_SETTINGS_MODULE": {"secretsManagerArn": ARN.format("settings")}}}, [
        "webstack:services.backend.secrets.DJANGO_SETTINGS_MODULE: DJANGO_SETTINGS_MODULE is set in "
        "services.backend.environment too; keep one (secrets for anything sensitive)",
    ]),
    (rules._distinct_stores, "dev", {"services.backend.uses": ["database", "cache", "database"]}, [
        'webstack:services.backend.uses[2] = "database": listed twice (also services.backend.uses[0]); list each '
        "data store once",
    ]),
    (rules._unique_priorities, "dev", {"services.frontend.routes.priority": 10}, [
        "webstack:services.frontend.routes.priority = 10: services.backend.routes.priority is 10 too; listener rule "
        "priorities must be unique across services",
    ]),
    (rules._prod_keeps_running_tasks, "prod", {"services.backend.deployment": {"minimumHealthyPercent": 50,
                                                                               "maximumPercent": 200}}, [
        "webstack:services.backend.deployment.minimumHealthyPercent = 50: must be 100 in prod: a deploy would "
        "otherwise stop running tasks before their replacements are healthy",
    ]),
    (rules._used_stores_exist, "dev", {"database": DELETE}, [
        'webstack:services.backend.uses[0] = "database": webstack:database is not configured; add it or remove '
        "database from services.backend.uses",
        'webstack:services.worker.uses[0] = "database": webstack:database is not configured; add it or remove '
        "database from services.worker.uses",
        'webstack:jobs.clearsessions.uses[0] = "database": webstack:database is not configured; add it or remove '
        "database from jobs.clearsessions.uses",
    ]),
    (rules._injected_names_left_alone, "dev", {
        "services.backend.environment": {"REDIS_HOST": "localhost"},
        "services.backend.secrets": {"DATABASE_PASSWORD": {"secretsManagerArn": ARN.format("db")}}}, [
        "webstack:services.backend.environment.REDIS_HOST: is set by the cache the service uses "
        "(services.backend.uses); remove it from environment",
        "webstack:services.backend.secrets.DATABASE_PASSWORD: is set by the database the service uses "
        "(services.backend.uses); remove it from secrets",
    ]),
    (rules._app_secret_references, "dev", {"services.backend.secrets": {"JWT_SECRET": {"fromConfig": "jwtSecret"}}}, [
        'webstack:services.backend.secrets.JWT_SECRET.fromConfig = "jwtSecret": webstack:appSecrets has no '
        f"'jwtSecret'; set it with `{HOW_TO.format(name='jwtSecret')}`",
    ]),
    (rules._app_secret_references, "dev", {"cache.authTokenFromConfig": "redisToken"}, [
        'webstack:cache.authTokenFromConfig = "redisToken": webstack:appSecrets has no \'redisToken\'; set it with '
        f"`{HOW_TO.format(name='redisToken')}`",
    ]),
    (rules._one_certificate, "prod", {"loadBalancer.certificateArn": CERTIFICATE}, [
        f'webstack:loadBalancer.certificateArn = "{CERTIFICATE}": not together with webstack:domain (the stack '
        "requests and validates its own certificate for it); set one of them",
    ]),
    (rules._storage_users_have_a_bucket, "dev", {"storage": DELETE}, [
        'webstack:services.backend.storage = "readwrite": the stack has no media bucket; add webstack:storage '
        "(e.g. {})",
    ]),
    (rules._prod_registry, "prod", {"registry": {"tagMutability": "MUTABLE", "forceDelete": True}}, [
        'webstack:registry.tagMutability = "MUTABLE": not allowed in prod: a deployed tag must always name the same '
        "image (rollbacks, audits); use IMMUTABLE",
        "webstack:registry.forceDelete = true: not allowed in prod: it deletes every image with the stack",
    ]),
    (rules._cache_engine, "dev", {"cache.engineVersion": "6.2"}, [
        'webstack:cache.engineVersion = "6.2": not a redis version this stack supports; allowed: 7.0, 7.1',
    ]),
    (rules._cache_engine, "dev", {"cache.nodeType": "cache.r8g.large"}, [
        'webstack:cache.nodeType = "cache.r8g.large": does not run redis (only valkey); pick another node type or '
        "cache.engine",
    ]),
    (rules._cache_cluster_mode, "dev", {"cache.shards": 2, "cache.replicasPerShard": 0}, [
        "webstack:cache.replicas = 0: not with cache.shards (cluster mode): set cache.replicasPerShard instead",
        "webstack:cache.replicasPerShard = 0: cluster mode requires automatic failover, which needs a replica in "
        "every shard: 1 to 5",
    ]),
    (rules._aurora_settings_belong_to_aurora, "dev", {"database.aurora": {"readers": 1}}, [
        "webstack:database.aurora: only with database.engine: aurora-postgresql (it is postgres)",
    ]),
    (rules._aurora_capacity, "lean", {"database.aurora.maxCapacity": 1.25}, [
        "webstack:database.aurora.maxCapacity = 1.25: Aurora Serverless v2 capacity goes in steps of 0.5 ACU "
        "(0, 0.5, 1, 1.5, ...)",
    ]),
    (rules._cache_multi_az, "dev", {"cache.multiAz": True}, [
        "webstack:cache.multiAz = true: needs cache.replicas of at least 1 (AWS fails over to a replica in another "
        "AZ); replicas is 0",
    ]),
    (rules._cache_windows, "dev", {"cache.maintenanceWindow": "sun:03:30-sun:04:30"}, [
        'webstack:cache.maintenanceWindow = "sun:03:30-sun:04:30": overlaps cache.snapshotWindow \'03:00-04:00\'; '
        "ElastiCache refuses overlapping windows",
    ]),
    # Overlap across midnight and the end of the week.
    (rules._cache_windows, "dev", {"cache.maintenanceWindow": "sat:23:30-sun:03:15"}, [
        'webstack:cache.maintenanceWindow = "sat:23:30-sun:03:15": overlaps cache.snapshotWindow \'03:00-04:00\'; '
        "ElastiCache refuses overlapping windows",
    ]),
    (rules._cache_windows, "dev", {"cache.maintenanceWindow": "sun:05:00-sun:05:30",
                                   "cache.snapshotWindow": "03:00-03:30"}, [
        'webstack:cache.maintenanceWindow = "sun:05:00-sun:05:30": lasts 30 minutes; ElastiCache needs at least 60',
        'webstack:cache.snapshotWindow = "03:00-03:30": lasts 30 minutes; ElastiCache needs at least 60',
    ]),
    (rules._database_windows, "dev", {"database.maintenanceWindow": "wed:03:15-wed:04:00"}, [
        'webstack:database.maintenanceWindow = "wed:03:15-wed:04:00": overlaps database.backupWindow '
        "'03:00-03:30'; RDS refuses overlapping windows",
    ]),
    (rules._database_windows, "dev", {"database.backupWindow": "03:00-03:20"}, [
        'webstack:database.backupWindow = "03:00-03:20": lasts 20 minutes; RDS needs at least 30',
    ]),
    (rules._proxy_idle_within_max, "dev", {"database.proxy": {"enabled": True, "maxConnectionsPercent": 40,
                                                              "maxIdleConnectionsPercent": 50}}, [
        "webstack:database.proxy.maxIdleConnectionsPercent = 50: must not exceed "
        "database.proxy.maxConnectionsPercent (40)",
    ]),
    (rules._managed_password_blocks_replicas, "dev", {"database.readReplicas": 2}, [
        "webstack:database.readReplicas = 2: read replicas are not possible with database.managedMasterPassword: "
        "true: RDS cannot create a read replica of a PostgreSQL instance whose master password is managed by RDS in "
        "Secrets Manager (AWS refuses it with InvalidParameterValue after the primary exists); either set "
        "database.managedMasterPassword: false (the program then generates the master password and keeps it in its "
        "own Secrets Manager secret; the `rds-managed-master-password` policy will report it — set that policy to "
        "advisory for this stack in policies/config/<stack>.json if you accept the trade-off), or set "
        "readReplicas: 0",
    ]),
    (rules._replica_class_large_enough, "dev", {"database": {
        "instanceClass": "db.m7g.large", "readReplicas": 1, "replicaInstanceClass": "db.t4g.medium",
        "managedMasterPassword": False}}, [
        'webstack:database.replicaInstanceClass = "db.t4g.medium": has less memory (4 GiB) than '
        "database.instanceClass db.m7g.large (8 GiB): its max_connections (400) would be below the primary's (800), "
        "which PostgreSQL replicas refuse (RDS marks them incompatible-parameters); pick a class at least as large",
    ]),
    (rules._storage_ceiling, "prod", {"database.maxAllocatedStorage": 54}, [
        "webstack:database.maxAllocatedStorage = 54: must be at least 10 % above database.allocatedStorage (50 GiB) "
        "for storage autoscaling: 55 or more",
    ]),
    (rules._domain_names, "prod", {"domain": {"recordName": "app.example.com"}}, [
        "webstack:domain: set exactly one of domain.zoneName (e.g. example.com) or domain.zoneId (e.g. "
        "Z0123456789ABC)",
    ]),
    (rules._domain_names, "prod", {"domain": {"zoneName": "example.com", "zoneId": "Z0123456789ABC",
                                              "recordName": "app.example.com"}}, [
        'webstack:domain.zoneId = "Z0123456789ABC": set exactly one of domain.zoneName or domain.zoneId; zoneName '
        "is set too",
    ]),
    (rules._domain_names, "prod", {"domain": {
        "zoneName": "example.com", "recordName": "app.example.com",
        "alternativeNames": ["www.example.com", "app.example.com", "app.other.org", "www.example.com"]}}, [
        'webstack:domain.alternativeNames[1] = "app.example.com": repeats domain.recordName; every name once',
        'webstack:domain.alternativeNames[3] = "www.example.com": repeats domain.alternativeNames[0]; every name '
        "once",
        'webstack:domain.alternativeNames[2] = "app.other.org": not in domain.zoneName example.com; validation and '
        "alias records can only be created in that zone",
    ]),
    (rules._alarm_timing, "dev", {"monitoring.alarms.databaseCpu": {"period": 3540, "evaluationPeriods": 25}}, [
        "webstack:monitoring.alarms.databaseCpu.evaluationPeriods = 25: monitoring.alarms.databaseCpu.period x "
        "evaluationPeriods = 88500 s; with a period under an hour CloudWatch evaluates at most 86400 s (one day)",
    ]),
    (rules._alarm_timing, "dev", {"monitoring.alarms.databaseFreeStorage": {"period": 3600,
                                                                           "evaluationPeriods": 169}}, [
        "webstack:monitoring.alarms.databaseFreeStorage.evaluationPeriods = 169: "
        "monitoring.alarms.databaseFreeStorage.period x evaluationPeriods = 608400 s; CloudWatch evaluates at most "
        "604800 s (seven days)",
    ]),
    (rules._alarm_timing, "dev", {"monitoring.alarms.serviceMemory": {"datapointsToAlarm": 3}}, [
        "webstack:monitoring.alarms.serviceMemory.datapointsToAlarm = 3: must not exceed "
        "monitoring.alarms.serviceMemory.evaluationPeriods (2)",
    ]),
    (rules._distinct_emails, "dev", {"monitoring.alertEmails": ["a@example.com", "b@example.com", "A@example.com"]}, [
        'webstack:monitoring.alertEmails[2] = "A@example.com": the same address as monitoring.alertEmails[0]; list '
        "each address once",
    ]),
    (rules._job_image, "dev", {"jobs.nightly": JOB | {"imageFrom": "mailer"}}, [
        'webstack:jobs.nightly.imageFrom = "mailer": is not a service of this stack (services: backend, frontend, '
        'worker)',
    ]),
    (rules._job_image, "dev", {"jobs.nightly": JOB | {"image": {"repository": "backend", "tag": "v1"}}}, [
        'webstack:jobs.nightly.imageFrom = "backend": set exactly one of image or imageFrom; jobs.nightly.image is '
        "set too",
    ]),
    (rules._job_fargate_size, "dev", {"jobs.nightly": JOB | {"cpu": 1024, "memory": 1024}}, [
        "webstack:jobs.nightly.memory = 1024: with cpu 1024 Fargate accepts memory of 2048-8192 MiB in steps of "
        "1024 MiB",
    ]),
    (rules._deployment_strategy, "prod", {"services.backend.deployment": {
        "strategy": "rolling", "bakeTimeMinutes": 5, "canary": {"percent": 10},
        "testTraffic": {"value": "1", "priority": 5}}}, [
        "webstack:services.backend.deployment.canary: is only used with services.backend.deployment.strategy canary "
        "(strategy is rolling)",
        "webstack:services.backend.deployment.bakeTimeMinutes = 5: is only used with "
        "services.backend.deployment.strategy blueGreen, canary or linear (strategy is rolling)",
        "webstack:services.backend.deployment.testTraffic: is only used with services.backend.deployment.strategy "
        "blueGreen, canary or linear (strategy is rolling)",
    ]),
    (rules._deployment_strategy, "prod", {"services.backend.deployment": {
        "strategy": "canary", "alarms": False, "linear": {"stepPercent": 20}}}, [
        "webstack:services.backend.deployment.linear: is only used with services.backend.deployment.strategy linear "
        "(strategy is canary)",
        "webstack:services.backend.deployment.alarms = false: canary has no circuit breaker: its deployment alarms "
        "(with the bake time) are its only automatic rollback; keep alarms on, or use rolling",
    ]),
    (rules._deployment_strategy, "dev", {"services.mailer": {
        "image": {"repository": "backend", "tag": "2f1c9e0"}, "command": ["celery", "-A", "app", "worker"],
        "deployment": {"strategy": "blueGreen", "alarms": True}}}, [
        'webstack:services.mailer.deployment.strategy = "blueGreen": shifts load balancer traffic between two target '
        "groups; this service has no services.mailer.routes (use rolling, or add routes)",
        "webstack:services.mailer.deployment.alarms = true: the deployment alarms are the load balancer's 5xx-rate "
        "and unhealthy-hosts alarms of this service; it has no services.mailer.routes (remove alarms or add routes)",
    ]),
    (rules._test_route, "prod", {"services.backend.deployment": {
        "strategy": "blueGreen", "testTraffic": {"value": "1", "priority": 20}},
        "services.backend.routes": {"paths": ["/a/*", "/b/*", "/c/*"], "hosts": ["api.example.com", "example.com"],
                                    "priority": 10}}, [
        "webstack:services.backend.deployment.testTraffic.priority = 20: must be lower than "
        "services.backend.routes.priority (10): the load balancer evaluates lower numbers first, so the production "
        "rule would take the test requests",
        'webstack:services.backend.deployment.testTraffic.header = "X-Deployment-Test": the test rule repeats '
        "services.backend.routes' paths and hosts and adds this header: 6 condition values, AWS allows at most 5 "
        "per listener rule",
    ]),
    # Behind a static frontend the test rule also spends a value on the origin header.
    (rules._test_route, "lean", {"services.backend.deployment": {
        "strategy": "blueGreen", "testTraffic": {"value": "1", "priority": 5}},
        "services.backend.routes": {"paths": ["/api/a/*", "/api/b/*", "/api/c/*", "/api/d/*"], "priority": 10}}, [
        'webstack:services.backend.deployment.testTraffic.header = "X-Deployment-Test": the test rule repeats '
        "services.backend.routes' paths and hosts, requires the frontend origin header and adds this header: 6 "
        "condition values, AWS allows at most 5 per listener rule",
    ]),
    (rules._unique_priorities, "prod", {"services.backend.deployment": {
        "strategy": "blueGreen", "testTraffic": {"value": "1", "priority": 100}},
        "services.backend.routes.priority": 150}, [
        "webstack:services.frontend.routes.priority = 100: services.backend.deployment.testTraffic.priority is 100 "
        "too; listener rule priorities must be unique across services",
    ]),
    (rules._exec_needs_writable_root, "dev", {"services.backend.enableExec": True}, [
        "webstack:services.backend.enableExec = true: ECS Exec does not support a read-only root filesystem (its "
        "agent writes into the container): set services.backend.readOnlyRootFilesystem to false as well, or turn "
        "enableExec off",
    ]),
    (rules._job_stores, "dev", {"jobs.nightly": JOB | {"uses": ["cache"]}, "cache": DELETE,
                                "services.backend.uses": ["database"], "services.worker.uses": ["database"]}, [
        'webstack:jobs.nightly.uses[0] = "cache": webstack:cache is not configured; add it or remove cache from '
        "jobs.nightly.uses",
    ]),
    (rules._frontend_domain, "lean", {"domain": DELETE}, [
        "webstack:frontend: a static frontend needs webstack:domain: CloudFront answers viewers on domain.recordName "
        "and reaches the load balancer over HTTPS on a name of the stack's certificate (frontend.originRecordName)",
    ]),
    (rules._frontend_domain, "lean", {"region": "eu-west-1",
                                      "network.availabilityZones": ["eu-west-1a", "eu-west-1b"]}, [
        "webstack:frontend.certificateArn: needed with aws:region eu-west-1: CloudFront uses ACM certificates from "
        "us-east-1 only and the stack's own certificate is in eu-west-1; request one in us-east-1 for "
        "domain.recordName (+ alternativeNames) and set its ARN here",
    ]),
    (rules._frontend_domain, "lean", {"frontend.originRecordName": "lean.example.com"}, [
        'webstack:frontend.originRecordName = "lean.example.com": is one of domain.recordName/alternativeNames, which '
        "point at CloudFront; the load balancer needs a name of its own (e.g. origin.app.example.com)",
    ]),
    (rules._frontend_domain, "lean", {"frontend.originRecordName": "origin.example.org"}, [
        'webstack:frontend.originRecordName = "origin.example.org": not in domain.zoneName example.com; its alias and '
        "validation records can only be created in that zone",
    ]),
    (rules._routes_behind_frontend, "lean", {"services.backend.routes": {"paths": ["/*"], "priority": 10}}, [
        'webstack:services.backend.routes.paths[0] = "/*": is served by the static frontend: CloudFront sends only '
        'frontend.apiPaths ["/api/*"] to the load balancer; route the service under one of them or add the path to '
        "frontend.apiPaths",
    ]),
    (rules._routes_behind_frontend, "lean", {"services.backend.routes": {
        "paths": ["/api/*"], "hosts": ["api.example.com"], "priority": 10}}, [
        'webstack:services.backend.routes.hosts[0] = "api.example.com": never matches behind the static frontend: '
        "CloudFront calls the load balancer on frontend.originRecordName, not the viewer's Host; route by "
        "routes.paths",
    ]),
    (rules._routes_behind_frontend, "lean", {"services.backend.routes": {
        "paths": ["/api/a", "/api/b", "/api/c", "/api/d", "/api/e"], "priority": 10}}, [
        "webstack:services.backend.routes: 5 paths and hosts in one rule; behind the static frontend the rule also "
        "requires CloudFront's origin header, so at most 4 remain of AWS's 5 condition values per listener rule",
    ]),
    # --- queues ---
    (rules._queues_exist, "dev", {"services.backend.produces": ["tasks", "emails", "tasks"]}, [
        'webstack:services.backend.produces[1] = "emails": is not a queue of this stack (queues: tasks); declare it '
        "under webstack:queues.emails",
        'webstack:services.backend.produces[2] = "tasks": listed twice (also services.backend.produces[0]); list '
        "each queue once",
    ]),
    (rules._queues_exist, "dev", {"services.worker.consumes": "email"}, [
        'webstack:services.worker.consumes = "email": is not a queue of this stack (queues: tasks); declare it '
        "under webstack:queues.email",
        "webstack:queues.tasks: no service consumes it: its messages would wait until queues.tasks.retention "
        "deletes them; set services.<worker>.consumes: tasks, or remove the queue",
    ]),
    (rules._one_consumer_per_queue, "dev", {"queues.reports": {}}, [
        "webstack:queues.reports: no service consumes it: its messages would wait until queues.reports.retention "
        "deletes them; set services.<worker>.consumes: reports, or remove the queue",
    ]),
    (rules._one_consumer_per_queue, "dev", {"services.frontend.consumes": "tasks"}, [
        'webstack:services.worker.consumes = "tasks": services.frontend.consumes is tasks too; a queue has one '
        "consuming service (it scales on that queue's backlog per task)",
    ]),
    (rules._dead_letters_outlive_messages, "dev", {"queues.tasks.retention": 86400,
                                                   "queues.tasks.deadLetterRetention": 3600}, [
        "webstack:queues.tasks.deadLetterRetention = 3600: is shorter than queues.tasks.retention (86400 s): a "
        "message keeps its first enqueue time in the dead-letter queue and could expire there on arrival; set at "
        "least 86400",
    ]),
    (rules._queue_scaling, "dev", {"services.frontend.scaling.backlogPerTask": 5}, [
        "webstack:services.frontend.scaling.backlogPerTask = 5: tracks the backlog of the queue the service "
        "consumes; it has no services.frontend.consumes (remove backlogPerTask or set consumes)",
    ]),
    (rules._queue_scaling, "prod", {"services.worker.scaling.min": 0}, [
        "webstack:services.worker.scaling.min = 0: 0 is not allowed in prod for a queue consumer: a message would "
        "wait for the scale-from-zero alarm (a minute or more) before a task even starts; keep at least 1 (min: 0 "
        "is for dev and staging)",
    ]),
    (rules._queue_variables_left_alone, "dev", {"services.backend.environment": {"TASKS_QUEUE_URL": "x"}}, [
        "webstack:services.backend.environment.TASKS_QUEUE_URL: is set to queues.tasks's URL for the service "
        "(services.backend.produces/consumes); remove it from environment",
    ]),
    (rules._connect_settings, "dev", {"services.internal": {k: v for k, v in INTERNAL.items() if k != "port"}}, [
        "webstack:services.internal.connect: Service Connect makes the container port reachable by name: set "
        "services.internal.port, or remove connect",
    ]),
    (rules._connect_settings, "dev", {"services.frontend.connect": {"name": "backend"}}, [
        'webstack:services.frontend.connect.name = "backend": services.backend.connect.name is \'backend\' too (a '
        "service's connect name defaults to the service's name); Service Connect names are unique in the stack's "
        "namespace",
    ]),
    (rules._calls, "dev", {"services.frontend.calls": ["api"]}, [
        'webstack:services.frontend.calls[0] = "api": is not a service of this stack (services: backend, frontend, worker)',
    ]),
    (rules._calls, "dev", {"services.backend.connect": DELETE}, [
        'webstack:services.frontend.calls[0] = "backend": services.backend is not reachable by name: add '
        "`connect: {}` to services.backend (it needs a port), or remove backend from services.frontend.calls",
    ]),
    (rules._calls, "dev", {"services.frontend.calls": ["backend", "frontend", "backend"]}, [
        'webstack:services.frontend.calls[1] = "frontend": a service does not call itself through Service Connect '
        "(it reaches its own port on localhost); remove it",
        'webstack:services.frontend.calls[2] = "backend": listed twice (also services.frontend.calls[0]); list each '
        "service once",
    ]),
    (rules._calls, "dev", {"services.frontend.connect": {}, "services.backend.calls": ["frontend"]}, [
        'webstack:services.backend.calls[0] = "frontend": backend -> frontend -> backend is a cycle: ECS cannot '
        "deploy either side first, and a client only resolves names that were in the namespace when its tasks "
        "started; let one side reach the other another way (e.g. a queue)",
        'webstack:services.frontend.calls[0] = "backend": frontend -> backend -> frontend is a cycle: ECS cannot '
        "deploy either side first, and a client only resolves names that were in the namespace when its tasks "
        "started; let one side reach the other another way (e.g. a queue)",
    ]),
]

# One accepted neighbour per rule (the committed stacks are the plain case).
ACCEPTED = [
    ("dev", {"storage.accessLogs": True, "accessLogs.enabled": True}),
    ("prod", {"storage.accessLogsPrefix": "albums/", "storage.accessLogs": False}),
    ("lean", {"services.backend.deployment": {"strategy": "blueGreen", "testTraffic": {"value": "1", "priority": 5}},
              "services.backend.routes": {"paths": ["/api/a/*", "/api/b/*", "/api/c/*"], "priority": 10}}),
    ("dev", {"loadBalancer.waf": {"enabled": True, "sqlInjectionRules": True,
                                  "ruleOverrides": {"AWSManagedRulesSQLiRuleSet": {"SQLi_BODY": "count"}}}}),
    ("lean", {"loadBalancer.waf.enabled": True}),
    ("lean", {"region": "eu-west-1", "network.availabilityZones": ["eu-west-1a", "eu-west-1b"],
              "frontend.certificateArn": CERTIFICATE}),
    ("dev", {"queues.emails": {"fifo": True, "encryption": "kms"}, "services.backend.produces": ["tasks", "emails"],
             "services.mailer": {"image": {"repository": "backend", "tag": "2f1c9e0"}, "consumes": "emails",
                                 "scaling": {"min": 1, "max": 2}}}),
    ("dev", {"queues.tasks.retention": 1209600, "queues.tasks.deadLetterRetention": 1209600}),
    ("dev", {"services.worker.scaling": {"min": 0, "max": 2}}),
    ("prod", {"services.worker.scaling": {"min": 2, "max": 4}}),
    ("dev", {"services.backend.environment": {"DJANGO_SETTINGS_MODULE": "x", "OTHER_QUEUE_URL": "https://x"}}),
    ("dev", {"jobs.nightly": JOB}),
    ("dev", {"services.backend.connect": {"name": "api", "port": 80}}),
    ("dev", {"services.internal": INTERNAL, "services.frontend.calls": ["backend", "internal"],
             "services.backend.calls": ["internal"]}),
    ("dev", {"jobs.nightly": JOB | {"imageFrom": None, "image": {"repository": "backend", "digest": "sha256:" + "0" * 64}}}),
    ("dev", {"services.mailer": {"image": {"repository": "backend", "tag": "2f1c9e0"},
                                 "command": ["celery", "-A", "app", "worker"], "scaling": {"min": 1, "max": 3},
                                 "healthCheck": {"command": ["CMD-SHELL", "celery -A app inspect ping || exit 1"]},
                                 "uses": ["database", "cache"]}}),
    ("dev", {"network.natGateways": "instancePerAz"}),
    ("dev", {"network.natInstance.instanceType": "t4g.small"}),
    ("dev", {"network.availabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c"]}),
    ("dev", {"network.subnetMask": 21, "network.cidr": "10.0.0.0/16"}),
    ("dev", {"network.cidr": "10.0.0.0/23", "network.subnetMask": 28}),
    ("dev", {"services.backend.image": {"repository": "backend", "digest": "sha256:" + "a" * 64}}),
    ("dev", {"services.backend.routes": {"paths": ["/a/*/b/*", "/c/*/d/?"], "hosts": ["*.example.com"],
                                         "priority": 10}}),
    ("dev", {"services.backend.routes": {"paths": ["/a/*", "/b/*", "/c/*", "/d/*"], "hosts": ["api.example.com"],
                                         "priority": 10}}),
    ("dev", {"services.backend.routes": {"hosts": ["api.example.com"], "priority": 10}}),
    ("dev", {"services.backend.cpu": 8192, "services.backend.memory": 16384}),
    ("dev", {"services.backend.healthCheck.interval": 10, "services.backend.healthCheck.timeout": 9}),
    ("dev", {"services.backend.stickiness": {"type": "app_cookie", "cookieName": "sessionid", "duration": 86400}}),
    ("dev", {"services.backend.scaling": {"min": 1, "desired": 2, "max": 3, "scaleOutCooldown": 300,
                                          "schedules": [schedule("night", 0, 0), schedule("day", 1, 5)]}}),
    ("dev", {"services.backend.deployment": {"minimumHealthyPercent": 50, "maximumPercent": 100}}),
    ("dev", {"services.backend.architecture": "arm64", "services.backend.spot": False}),
    ("dev", {"services.backend.environment": {"SENTRY_ENVIRONMENT": "dev", "JWT_SECRET_ARN": ARN.format("jwt"),
                                              "AUTHOR": "jane"}}),
    ("dev", {"services.backend.secrets": {"JWT_SECRET": {"secretsManagerArn": ARN.format("jwt")}}}),
    ("dev", {"services.frontend.uses": ["cache"]}),
    ("prod", {"services.backend.deployment": {"minimumHealthyPercent": 100, "maximumPercent": 150}}),
    ("dev", {"services.backend.storage": DELETE, "storage": DELETE}),
    ("prod", {"registry": {"tagMutability": "IMMUTABLE", "forceDelete": False}}),
    ("dev", {"cache": {"engine": "valkey", "engineVersion": "8.1", "nodeType": "cache.r8g.large"}}),
    ("dev", {"cache": {"replicas": 1, "multiAz": True}}),
    ("dev", {"cache": {"maintenanceWindow": "sun:23:00-mon:01:00", "snapshotWindow": "01:00-02:00"}}),
    ("dev", {"database.backupWindow": "23:45-00:15", "database.maintenanceWindow": "sun:00:15-sun:01:00"}),
    ("dev", {"database.proxy": {"enabled": True, "maxConnectionsPercent": 50, "maxIdleConnectionsPercent": 50}}),
    ("dev", {"database": {"instanceClass": "db.t4g.medium", "readReplicas": 1, "replicaInstanceClass": "db.m7g.large",
                          "managedMasterPassword": False}}),
    ("dev", {"database": {"instanceClass": "db.m7g.large", "replicaInstanceClass": "db.t4g.micro"}}),
    ("prod", {"database.maxAllocatedStorage": 55}),
    ("prod", {"domain": {"zoneId": "Z0123456789ABC", "recordName": "app.example.com",
                         "alternativeNames": ["www.example.com"]}}),
    ("dev", {"monitoring.alarms.databaseFreeStorage": {"period": 3600, "evaluationPeriods": 168},
             "monitoring.alarms.serviceMemory": {"datapointsToAlarm": 2}}),
    ("dev", {"monitoring.alertEmails": ["a@example.com", "b@example.com"]}),
    ("prod", {"services.backend.deployment": {"strategy": "canary", "bakeTimeMinutes": 0, "alarms": True,
                                              "canary": {"percent": 0.1, "bakeMinutes": 1440},
                                              "testTraffic": {"value": "1", "priority": 5}}}),
    ("prod", {"services.backend.deployment": {"strategy": "linear", "linear": {"stepPercent": 3}}}),
    ("prod", {"services.frontend.deployment": {"strategy": "rolling", "alarms": False}}),
    ("dev", {"services.backend.enableExec": True, "services.backend.readOnlyRootFilesystem": False}),
    ("dev", {"services.backend.writablePaths": ["/tmp", "/var/cache/app"], "services.backend.ephemeralStorageGiB": 200,
             "jobs.nightly": JOB | {"writablePaths": ["/tmp"], "readOnlyRootFilesystem": False}}),
    ("lean", {"region": "eu-west-1", "network.availabilityZones": ["eu-west-1a", "eu-west-1b"],
              "frontend.certificateArn": CERTIFICATE, "frontend.originRecordName": "api-origin.example.com"}),
    ("lean", {"frontend.apiPaths": ["/api/*", "/admin/*"],
              "services.backend.routes": {"paths": ["/api/v1/*", "/admin/*", "/api/health/"], "priority": 10}}),
]


@pytest.mark.parametrize("rule,stack,edits,expected", REFUSED,
                         ids=[f"{case[0].__name__}-{index}" for index, case in enumerate(REFUSED)])
def test_rule_refuses_naming_the_key_and_value(rule, stack, edits, expected):
    assert problems_of(stack, edits) == expected


@pytest.mark.parametrize("stack,edits", ACCEPTED)
def test_neighbouring_good_config_is_accepted(stack, edits):
    validate_stack_config(changed(stack, edits))


def test_every_rule_has_a_refused_case():
    assert {rule.check for rule in RULES} == {case[0] for case in REFUSED}


def test_schema_and_cross_field_problems_come_back_in_one_run():
    assert problems_of("dev", {
        "cache.nodeType": "cache.t4g.mini",  # schema
        "cache.multiAz": True,  # cross-field, same section as the bad node type
        "services.frontend.port": 0,  # schema: a required key of frontend
        "services.frontend.routes.priority": 10,  # cross-field on frontend all the same
        "network.availabilityZones": ["us-east-1a", "eu-west-1b"],  # cross-field
        "database.allocatedStorage": 30,
        "database.maxAllocatedStorage": 20,  # schema: the storage-ratio rule is skipped, not reported twice
        "services.backend.scaling.schedules": [{**schedule("night", 3, 1), "timezone": "Mars/Base"}],
    }) == [
        "webstack:services.backend.scaling.schedules[0].timezone = \"Mars/Base\": 'Mars/Base' is not an IANA time "
        "zone name (e.g. UTC, Europe/Berlin, America/New_York)",
        "webstack:services.frontend.port = 0: Input should be greater than or equal to 1",
        'webstack:cache.nodeType = "cache.t4g.mini": not an ElastiCache node type this stack can create; supported: '
        "cache.t3/cache.t4g micro-medium, or large and up of cache.m8g, cache.m7g, cache.m6g, cache.m5, cache.m4, "
        "cache.r8g, cache.r7g, cache.r6g, cache.r5, cache.r4, cache.c8gn, cache.c7gn (m8g, r8g and c8gn with Valkey "
        "only)",
        "webstack:database.maxAllocatedStorage = 20: Input should be greater than or equal to 22",
        'webstack:network.availabilityZones[1] = "eu-west-1b": not in aws:region us-east-1; use a zone of us-east-1 '
        "such as us-east-1a",
        "webstack:services.backend.scaling.schedules[0].min = 3: must not exceed "
        "services.backend.scaling.schedules[0].max (1)",
        "webstack:services.frontend.routes.priority = 10: services.backend.routes.priority is 10 too; listener rule "
        "priorities must be unique across services",
        "webstack:cache.multiAz = true: needs cache.replicas of at least 1 (AWS fails over to a replica in another "
        "AZ); replicas is 0",
    ]


def test_a_rule_whose_input_failed_is_skipped_not_repeated():
    # cpu 300 is not a Fargate size: the memory rule (which reads cpu) says nothing about it.
    assert problems_of("dev", {"services.backend.cpu": 300, "services.backend.memory": 3000}) == [
        "webstack:services.backend.cpu = 300: Fargate CPU units must be one of 256, 512, 1024, 2048, 4096, 8192, 16384",
    ]
    # A bad snapshot window: no overlap report computed from the default window instead.
    assert problems_of("dev", {"cache.snapshotWindow": "3-4", "cache.maintenanceWindow": "sun:03:00-sun:04:00"}) == [
        'webstack:cache.snapshotWindow = "3-4": expected hh:mm-hh:mm (UTC, 24-hour clock), e.g. 03:00-04:00',
    ]


def test_a_broken_service_hides_nothing_of_the_others():
    # The backend service has no image at all (a required key); the frontend's problems still come back.
    assert problems_of("dev", {"services.backend.image": DELETE, "services.frontend.memory": 3000}) == [
        "webstack:services.backend.image: required key is missing",
        "webstack:services.frontend.memory = 3000: with cpu 256 Fargate accepts memory of 512, 1024 or 2048 MiB",
    ]
