"""Observability: insights, log retention, alarms that reach someone, flow logs, access logs, DB telemetry."""

from __future__ import annotations

import re

from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import (
    ADVISORY,
    MANDATORY,
    AWSX_VPC,
    EC2_VPC,
    ECS_CLUSTER,
    FLOW_LOG,
    LOAD_BALANCERS,
    LOG_GROUP,
    METRIC_ALARM,
    RDS_CLUSTER,
    RDS_INSTANCE,
    RDS_PARAMETER_GROUP,
    DISTRIBUTION,
    SECURITY_GROUP,
    SECURITY_GROUP_INGRESS_RULE,
    WAF_ASSOCIATION,
    StackChecker,
    as_list,
    fix,
    plain,
    present,
    truthy,
)



def _container_insights(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ECS_CLUSTER:
        return
    settings = {s.get("name"): s.get("value") for s in as_list(args.props.get("settings"))}
    if settings.get("containerInsights") not in ("enabled", "enhanced"):
        report(fix("Container Insights is off: no per-service CPU/memory/task metrics.",
                   "add settings=[{'name': 'containerInsights', 'value': 'enabled'}] (or 'enhanced')."))


ecs_container_insights = ResourceValidationPolicy(
    name="ecs-container-insights",
    description="ECS clusters must have Container Insights enabled.",
    validate=_container_insights,
    enforcement_level=MANDATORY,
)


def _log_retention(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != LOG_GROUP:
        return
    minimum = int(args.get_config().get("minDays", 1))
    days = int(args.props.get("retentionInDays") or 0)
    if days == 0:
        report(fix("The log group keeps logs forever (no retentionInDays): cost grows without bound.",
                   f"set retention_in_days (at least {minimum})."))
    elif days < minimum:
        report(fix(f"The log group keeps logs {days} day(s); at least {minimum} required.",
                   f"set retention_in_days to {minimum} or more."))


log_group_retention = ResourceValidationPolicy(
    name="log-group-retention",
    description="Every CloudWatch log group must set a retention, at least the configured number of days.",
    validate=_log_retention,
    enforcement_level=MANDATORY,
    config_schema=PolicyConfigSchema(properties={"minDays": {"type": "integer", "minimum": 1, "default": 1}}),
)


def _alarm_actions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != METRIC_ALARM:
        return
    if args.props.get("actionsEnabled") is not None and not truthy(args.props.get("actionsEnabled")):
        report(fix("The alarm's actions are disabled.", "remove actions_enabled=False."))
    elif not present(args.props, "alarmActions"):
        report(fix("The alarm notifies nobody (no alarmActions).", "set alarm_actions=[<SNS topic ARN>]."))


alarms_have_actions = ResourceValidationPolicy(
    name="alarms-have-actions",
    description="CloudWatch alarms must have enabled alarm actions.",
    validate=_alarm_actions,
    enforcement_level=MANDATORY,
)


def _vpc_flow_logs(args: StackValidationArgs, report: ReportViolation) -> None:
    checker = StackChecker(args, report)
    flow_logs = checker.of_type(FLOW_LOG)
    for vpc in checker.of_type(AWSX_VPC, EC2_VPC):
        if not checker.linking_to(vpc, flow_logs, "vpcId"):
            checker.violation(vpc, fix("The VPC has no flow log: rejected and accepted traffic is not recorded.",
                                       "add an aws.ec2.FlowLog(vpc_id=..., traffic_type='ALL') to CloudWatch Logs "
                                       "or S3."))
    checker.finish()


vpc_flow_logs = StackValidationPolicy(
    name="vpc-flow-logs",
    description="Every VPC must have flow logs.",
    validate=_vpc_flow_logs,
    enforcement_level=MANDATORY,
)


def _alb_access_logs(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in LOAD_BALANCERS:
        return
    logs = args.props.get("accessLogs") or {}
    if not truthy(logs.get("enabled")) or not present(logs, "bucket"):
        report(fix("The load balancer writes no access logs.",
                   "set access_logs={'bucket': <log bucket>, 'enabled': True}; the bucket policy must let the "
                   "regional ELB account (or logdelivery.elasticloadbalancing.amazonaws.com) write."))


alb_access_logs = ResourceValidationPolicy(
    name="alb-access-logs",
    description="Load balancers must write access logs to S3.",
    validate=_alb_access_logs,
    enforcement_level=MANDATORY,
)


def _only_prefix_list_ingress(checker: StackChecker, lb) -> bool:
    """Every inbound rule of the load balancer's security groups admits a prefix list (CloudFront's origin-facing
    one), none an address range: only CloudFront reaches it."""
    groups = checker.linked(lb, checker.of_type(SECURITY_GROUP), "securityGroups")
    rules = [rule for group in groups
             for rule in checker.linking_to(group, checker.of_type(SECURITY_GROUP_INGRESS_RULE), "securityGroupId")]
    inline = [rule for group in groups for rule in as_list(plain(group.props.get("ingress")))]
    return bool(groups and rules) and not inline and all(
        present(rule.props, "prefixListId") and not present(rule.props, "cidrIpv4")
        and not present(rule.props, "cidrIpv6") for rule in rules)


def _alb_waf(args: StackValidationArgs, report: ReportViolation) -> None:
    checker = StackChecker(args, report)
    associations = checker.of_type(WAF_ASSOCIATION)
    protected_edge = any(checker.attempt(d, lambda d=d: present(d.props, "webAclId"), True)
                         for d in checker.of_type(DISTRIBUTION))
    for lb in checker.of_type(LOAD_BALANCERS):
        internal = checker.attempt(lb, lambda: truthy(lb.props.get("internal")), True)
        if internal or checker.linking_to(lb, associations, "resourceArn"):
            continue
        if protected_edge and checker.attempt(lb, lambda: _only_prefix_list_ingress(checker, lb), True):
            continue
        checker.violation(lb, fix("The internet-facing load balancer has no WAF web ACL, and is not reachable "
                                  "only through a CloudFront distribution that has one.",
                                  "set webstack:loadBalancer.waf.enabled: true (an aws.wafv2.WebAcl with AWS's "
                                  "managed rule groups, associated by aws.wafv2.WebAclAssociation; behind a static "
                                  "frontend, on the distribution's web_acl_id)."))
    checker.finish()


alb_waf_attached = StackValidationPolicy(
    name="alb-waf-attached",
    description="Internet-facing load balancers are protected by a WAF web ACL: their own, or, when only CloudFront "
                "can reach them, their distribution's.",
    validate=_alb_waf,
    enforcement_level=ADVISORY,
)


def _rds_telemetry(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (RDS_INSTANCE, RDS_CLUSTER):
        return
    props = args.props
    if args.resource_type == RDS_INSTANCE and not truthy(props.get("performanceInsightsEnabled")) \
            and str(props.get("databaseInsightsMode") or "") != "advanced":
        report(fix("Performance Insights is off.", "set performance_insights_enabled=True (7 days are free)."))
    if args.resource_type == RDS_INSTANCE and int(props.get("monitoringInterval") or 0) == 0:
        report(fix("Enhanced monitoring is off.", "set monitoring_interval=60 and a monitoring_role_arn."))
    if not present(props, "enabledCloudwatchLogsExports"):
        report(fix("No database logs are exported to CloudWatch.",
                   "set enabled_cloudwatch_logs_exports=['postgresql', 'upgrade'] (engine-specific)."))


rds_observability = ResourceValidationPolicy(
    name="rds-observability",
    description="RDS databases must export logs and enable Performance Insights and enhanced monitoring.",
    validate=_rds_telemetry,
    enforcement_level=MANDATORY,
)


def _rds_iam_auth(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in (RDS_INSTANCE, RDS_CLUSTER) and not truthy(args.props.get("iamDatabaseAuthenticationEnabled")):
        report(fix("IAM database authentication is off.", "set iam_database_authentication_enabled=True."))


rds_iam_authentication = ResourceValidationPolicy(
    name="rds-iam-authentication",
    description="RDS databases should allow IAM database authentication.",
    validate=_rds_iam_auth,
    enforcement_level=ADVISORY,
)


POSTGRES_FAMILY = re.compile(r"^postgres(\d+)")


def _force_ssl(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """rds.force_ssl defaults to 1 from PostgreSQL 15 on; earlier families must set it."""
    if args.resource_type == RDS_PARAMETER_GROUP:
        family = POSTGRES_FAMILY.match(str(args.props.get("family") or ""))
        if not family:
            return
        values = {p.get("name"): str(p.get("value")) for p in as_list(args.props.get("parameters"))}
        forced = values.get("rds.force_ssl", "1" if int(family.group(1)) >= 15 else "0")
        if forced != "1":
            report(fix("The parameter group lets clients connect without TLS (rds.force_ssl is not 1).",
                       "set the parameter rds.force_ssl=1."))
    elif args.resource_type == RDS_INSTANCE and str(args.props.get("engine") or "") == "postgres" \
            and not present(args.props, "parameterGroupName"):
        major = str(args.props.get("engineVersion") or "").split(".")[0]
        if major.isdigit() and int(major) < 15:
            report(fix(f"PostgreSQL {major} with the default parameter group accepts plaintext connections.",
                       "use a parameter group with rds.force_ssl=1 (or PostgreSQL 15+)."))


rds_force_ssl = ResourceValidationPolicy(
    name="rds-force-ssl",
    description="PostgreSQL databases must refuse connections without TLS (rds.force_ssl=1).",
    validate=_force_ssl,
    enforcement_level=MANDATORY,
)


POLICIES = [
    ecs_container_insights,
    log_group_retention,
    alarms_have_actions,
    vpc_flow_logs,
    alb_access_logs,
    alb_waf_attached,
    rds_observability,
    rds_iam_authentication,
    rds_force_ssl,
]
