"""A Pulumi program that satisfies every webstack-guard policy, written with the typed SDK args.

The policy tests capture it under mocks (so property names are the engine's, not hand-typed),
check it is clean, then break one property at a time.
"""

import json

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

ACCOUNT = "123456789012"
provider = aws.Provider("aws", region="us-east-1", default_tags=aws.ProviderDefaultTagsArgs(
    tags={"Project": "webstack", "Environment": "prod", "Owner": "platform-team"}))
opts = pulumi.ResourceOptions(provider=provider)

vpc = awsx.ec2.Vpc("vpc", cidr_block="10.0.0.0/16", subnet_specs=[
    awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PUBLIC),
    awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PRIVATE),
    awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.ISOLATED),
], opts=opts)
aws.ec2.DefaultSecurityGroup("default-sg", vpc_id=vpc.vpc_id, ingress=[], egress=[], opts=opts)

logs_key = aws.kms.Key("logs-key", enable_key_rotation=True, opts=opts)
flow_log_group = aws.cloudwatch.LogGroup("flow-logs", retention_in_days=30, opts=opts)
assume_flow_logs = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
flow_role = aws.iam.Role("flow-logs-role", assume_role_policy=assume_flow_logs, opts=opts)
aws.iam.RolePolicy("flow-logs-write", role=flow_role.id, policy=flow_log_group.arn.apply(lambda arn: json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": f"{arn}:*"}],
})), opts=opts)
aws.ec2.FlowLog("flow-log", vpc_id=vpc.vpc_id, traffic_type="ALL", log_destination=flow_log_group.arn,
                iam_role_arn=flow_role.arn, opts=opts)

# --- edge: bucket for access logs ------------------------------------------------------
logs_bucket = aws.s3.Bucket("alb-logs", opts=opts)
aws.s3.BucketPublicAccessBlock("alb-logs-pab", bucket=logs_bucket.id, block_public_acls=True,
                               block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True, opts=opts)
aws.s3.BucketServerSideEncryptionConfiguration("alb-logs-sse", bucket=logs_bucket.id, rules=[
    aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
        apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="AES256"))], opts=opts)
aws.s3.BucketVersioning("alb-logs-versioning", bucket=logs_bucket.id,
                        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
                        opts=opts)
aws.s3.BucketPolicy("alb-logs-policy", bucket=logs_bucket.id, policy=logs_bucket.arn.apply(lambda arn: json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                   "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}],
})), opts=opts)
aws.ecr.Repository("backend-repo", image_tag_mutability="IMMUTABLE",
                   image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                   opts=opts)

# --- load balancer -----------------------------------------------------------------------
lb_sg = aws.ec2.SecurityGroup("lb-sg", vpc_id=vpc.vpc_id, description="load balancer", opts=opts)
for port in (80, 443):
    aws.vpc.SecurityGroupIngressRule(f"lb-in-{port}", security_group_id=lb_sg.id, cidr_ipv4="0.0.0.0/0",
                                     from_port=port, to_port=port, ip_protocol="tcp", opts=opts)
app_sg = aws.ec2.SecurityGroup("app-sg", vpc_id=vpc.vpc_id, description="tasks", ingress=[
    aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=8000, to_port=8000, security_groups=[lb_sg.id])],
    opts=opts)
data_sg = aws.ec2.SecurityGroup("data-sg", vpc_id=vpc.vpc_id, description="data tier", opts=opts)
aws.ec2.SecurityGroupRule("data-from-app", type="ingress", security_group_id=data_sg.id, protocol="tcp",
                          from_port=5432, to_port=5432, source_security_group_id=app_sg.id, opts=opts)
lb = aws.lb.LoadBalancer("alb", load_balancer_type="application", security_groups=[lb_sg.id],
                         subnets=vpc.public_subnet_ids, drop_invalid_header_fields=True,
                         enable_deletion_protection=True,
                         access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=logs_bucket.bucket, enabled=True),
                         opts=opts)
aws.wafv2.WebAclAssociation("alb-waf", resource_arn=lb.arn,
                            web_acl_arn=f"arn:aws:wafv2:us-east-1:{ACCOUNT}:regional/webacl/web/abc", opts=opts)
target_group = aws.lb.TargetGroup("app-tg", port=8000, protocol="HTTP", target_type="ip", vpc_id=vpc.vpc_id, opts=opts)
https = aws.lb.Listener("https", load_balancer_arn=lb.arn, port=443, protocol="HTTPS",
                        ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06",
                        certificate_arn=f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/abc",
                        default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=target_group.arn)],
                        opts=opts)
aws.lb.Listener("http", load_balancer_arn=lb.arn, port=80, protocol="HTTP", default_actions=[
    aws.lb.ListenerDefaultActionArgs(type="redirect", redirect=aws.lb.ListenerDefaultActionRedirectArgs(
        protocol="HTTPS", port="443", status_code="HTTP_301"))], opts=opts)
aws.lb.ListenerRule("api-route", listener_arn=https.arn, priority=10,
                    actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=target_group.arn)],
                    conditions=[aws.lb.ListenerRuleConditionArgs(
                        path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=["/api/*"]))],
                    opts=opts)

# --- secrets, roles, tasks --------------------------------------------------------------
app_secret = aws.secretsmanager.Secret("django-secret-key", opts=opts)
aws.secretsmanager.SecretRotation("django-secret-key-rotation", secret_id=app_secret.id,
                                  rotation_lambda_arn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:rotate",
                                  rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(automatically_after_days=30),
                                  opts=opts)
assume_tasks = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
execution_role = aws.iam.Role("execution-role", assume_role_policy=assume_tasks, opts=opts)
aws.iam.RolePolicyAttachment("execution-managed", role=execution_role.name,
                             policy_arn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", opts=opts)
aws.iam.RolePolicy("execution-secrets", role=execution_role.id, policy=app_secret.arn.apply(lambda arn: json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [arn]}],
})), opts=opts)
task_role = aws.iam.Role("task-role", assume_role_policy=assume_tasks, inline_policies=[aws.iam.RoleInlinePolicyArgs(
    name="media", policy=logs_bucket.arn.apply(lambda arn: json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"{arn}/*"}],
    })))], opts=opts)
app_logs = aws.cloudwatch.LogGroup("app-logs", retention_in_days=30, kms_key_id=logs_key.arn, opts=opts)
cluster = aws.ecs.Cluster("cluster", settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
                          opts=opts)
task = aws.ecs.TaskDefinition(
    "app-task", family="app", cpu="512", memory="1024", network_mode="awsvpc", requires_compatibilities=["FARGATE"],
    execution_role_arn=execution_role.arn, task_role_arn=task_role.arn,
    container_definitions=pulumi.Output.all(app_secret.arn, app_logs.name).apply(lambda values: json.dumps([{
        "name": "app",
        "image": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/backend:2f1c9e0",
        "essential": True,
        "readonlyRootFilesystem": True,
        "portMappings": [{"containerPort": 8000, "protocol": "tcp"}],
        "environment": [{"name": "DJANGO_SETTINGS_MODULE", "value": "app.settings.prod"},
                        {"name": "DJANGO_SECRET_KEY_ARN", "value": values[0]},
                        {"name": "TOKEN_LIFETIME_SECONDS", "value": "3600"}],
        "secrets": [{"name": "DJANGO_SECRET_KEY", "valueFrom": values[0]}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": values[1], "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app"}},
    }])), opts=opts)
service = aws.ecs.Service(
    "app-service", cluster=cluster.arn, task_definition=task.arn, desired_count=2, launch_type="FARGATE",
    network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
        subnets=vpc.private_subnet_ids, security_groups=[app_sg.id], assign_public_ip=False),
    deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
    load_balancers=[aws.ecs.ServiceLoadBalancerArgs(target_group_arn=target_group.arn, container_name="app",
                                                    container_port=8000)],
    opts=pulumi.ResourceOptions(provider=provider, ignore_changes=["desiredCount"]))
scaling_target = aws.appautoscaling.Target(
    "app-scaling", service_namespace="ecs", scalable_dimension="ecs:service:DesiredCount", min_capacity=2,
    max_capacity=6, resource_id=pulumi.Output.concat("service/", cluster.name, "/", service.name), opts=opts)
aws.appautoscaling.Policy(
    "app-scaling-cpu", policy_type="TargetTrackingScaling", service_namespace="ecs",
    scalable_dimension="ecs:service:DesiredCount", resource_id=scaling_target.resource_id,
    target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
        target_value=70,
        predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
            predefined_metric_type="ECSServiceAverageCPUUtilization")),
    opts=opts)

# --- data tier ----------------------------------------------------------------------------
db_subnets = aws.rds.SubnetGroup("db-subnets", subnet_ids=vpc.isolated_subnet_ids, opts=opts)
db_parameters = aws.rds.ParameterGroup("db-params", family="postgres16", parameters=[
    aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1")], opts=opts)
database = aws.rds.Instance(
    "db", engine="postgres", engine_version="16.4", instance_class="db.t4g.medium", allocated_storage=50,
    username="app", manage_master_user_password=True, db_subnet_group_name=db_subnets.name,
    parameter_group_name=db_parameters.name, vpc_security_group_ids=[data_sg.id], storage_encrypted=True,
    multi_az=True, backup_retention_period=7, deletion_protection=True, skip_final_snapshot=False,
    final_snapshot_identifier="db-final", publicly_accessible=False, performance_insights_enabled=True,
    monitoring_interval=60, monitoring_role_arn=f"arn:aws:iam::{ACCOUNT}:role/rds-monitoring",
    enabled_cloudwatch_logs_exports=["postgresql", "upgrade"], iam_database_authentication_enabled=True,
    opts=pulumi.ResourceOptions(provider=provider, protect=True))
aws.rds.Proxy("db-proxy", engine_family="POSTGRESQL", require_tls=True, role_arn=execution_role.arn,
              vpc_subnet_ids=vpc.private_subnet_ids, vpc_security_group_ids=[data_sg.id],
              auths=[aws.rds.ProxyAuthArgs(auth_scheme="SECRETS", iam_auth="REQUIRED",
                                           secret_arn=database.master_user_secrets[0].secret_arn)],
              opts=opts)
cache_subnets = aws.elasticache.SubnetGroup("cache-subnets", subnet_ids=vpc.private_subnet_ids, opts=opts)
aws.elasticache.ReplicationGroup(
    "cache", description="sessions and cache", engine="redis", node_type="cache.t4g.small", num_cache_clusters=2,
    subnet_group_name=cache_subnets.name, security_group_ids=[data_sg.id], at_rest_encryption_enabled=True,
    transit_encryption_enabled=True, user_group_ids=["app-users"], automatic_failover_enabled=True,
    multi_az_enabled=True, snapshot_retention_limit=1, opts=opts)

# --- alarms ---------------------------------------------------------------------------------
alerts = aws.sns.Topic("alerts", kms_master_key_id=logs_key.id, opts=opts)
aws.cloudwatch.MetricAlarm("cpu-high", comparison_operator="GreaterThanThreshold", evaluation_periods=2,
                           metric_name="CPUUtilization", namespace="AWS/ECS", period=300, statistic="Average",
                           threshold=80, alarm_actions=[alerts.arn], opts=opts)

# --- edge: static frontend behind CloudFront -------------------------------------------------
frontend_oac = aws.cloudfront.OriginAccessControl("frontend-oac", origin_access_control_origin_type="s3",
                                                  signing_behavior="always", signing_protocol="sigv4", opts=opts)
aws.cloudfront.Distribution(
    "frontend-cdn", enabled=True,
    origins=[
        aws.cloudfront.DistributionOriginArgs(origin_id="site", domain_name=logs_bucket.bucket_regional_domain_name,
                                              origin_access_control_id=frontend_oac.id),
        aws.cloudfront.DistributionOriginArgs(
            origin_id="api", domain_name="origin.example.com",
            custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                http_port=80, https_port=443, origin_protocol_policy="https-only", origin_ssl_protocols=["TLSv1.2"])),
    ],
    default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
        target_origin_id="site", viewer_protocol_policy="redirect-to-https", allowed_methods=["GET", "HEAD"],
        cached_methods=["GET", "HEAD"], cache_policy_id="658327ea-f89d-4fab-a63d-7e88639e58f6"),
    ordered_cache_behaviors=[aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
        path_pattern="/api/*", target_origin_id="api", viewer_protocol_policy="redirect-to-https",
        allowed_methods=["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"], cached_methods=["GET", "HEAD"],
        cache_policy_id="4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
        origin_request_policy_id="b689b0a8-53d0-40ab-baf2-68738e2966ac")],
    restrictions=aws.cloudfront.DistributionRestrictionsArgs(
        geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")),
    aliases=["www.example.com"],
    viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
        acm_certificate_arn=f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/0b1c2d3e-0000-4000-8000-000000000000",
        ssl_support_method="sni-only", minimum_protocol_version="TLSv1.2_2021"),
    opts=opts)

# --- queues: a work queue with its dead-letter queue, and a schedule's dead-letter queue -----------
work_dlq = aws.sqs.Queue("work-dlq", sqs_managed_sse_enabled=True, message_retention_seconds=1209600, opts=opts)
work_queue = aws.sqs.Queue("work-queue", sqs_managed_sse_enabled=True, redrive_policy=work_dlq.arn.apply(
    lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 5})), opts=opts)
aws.sqs.RedriveAllowPolicy("work-dlq-sources", queue_url=work_dlq.url, redrive_allow_policy=work_queue.arn.apply(
    lambda arn: json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [arn]})), opts=opts)
aws.sqs.QueuePolicy("work-queue-policy", queue_url=work_queue.url, policy=work_queue.arn.apply(lambda arn: json.dumps({
    "Version": "2012-10-17", "Statement": [
        {"Sid": "ThisAccountOnly", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "sqs:*", "Resource": arn},
        {"Sid": "DenyWithoutTls", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": arn,
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]})), opts=opts)
schedule_dlq = aws.sqs.Queue("schedule-dlq", kms_master_key_id=logs_key.arn, opts=opts)
aws.scheduler.Schedule(
    "nudge", schedule_expression="rate(1 hour)",
    flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
    target=aws.scheduler.ScheduleTargetArgs(
        arn=work_queue.arn, role_arn=f"arn:aws:iam::{ACCOUNT}:role/scheduler",
        dead_letter_config=aws.scheduler.ScheduleTargetDeadLetterConfigArgs(arn=schedule_dlq.arn)),
    opts=opts)
