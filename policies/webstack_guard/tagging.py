"""Cost-allocation tags on every taggable resource, counting the provider's default tags."""

from __future__ import annotations

from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .common import MANDATORY, fix, plain, provider_default_tags

# Taggable types this stack (and awsx's children) create. Resource policies see inputs, where an
# absent `tags` is simply missing, so taggability cannot be read off the properties.
TAGGABLE_TYPES = frozenset({
    "aws:acm/certificate:Certificate",
    "aws:alb/listener:Listener", "aws:alb/listenerRule:ListenerRule", "aws:alb/loadBalancer:LoadBalancer",
    "aws:alb/targetGroup:TargetGroup",
    "aws:appautoscaling/target:Target",
    "aws:cloudfront/distribution:Distribution",
    "aws:cloudwatch/logGroup:LogGroup", "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:cloudwatch/dashboard:Dashboard",
    "aws:ec2/eip:Eip", "aws:ec2/flowLog:FlowLog", "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway", "aws:ec2/routeTable:RouteTable", "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/subnet:Subnet", "aws:ec2/vpc:Vpc", "aws:ec2/vpcEndpoint:VpcEndpoint",
    "aws:ecr/repository:Repository",
    "aws:ecs/cluster:Cluster", "aws:ecs/service:Service", "aws:ecs/taskDefinition:TaskDefinition",
    "aws:elasticache/parameterGroup:ParameterGroup", "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:elasticache/subnetGroup:SubnetGroup", "aws:elasticache/user:User", "aws:elasticache/userGroup:UserGroup",
    "aws:iam/policy:Policy", "aws:iam/role:Role",
    "aws:kms/key:Key",
    "aws:lb/listener:Listener", "aws:lb/listenerRule:ListenerRule", "aws:lb/loadBalancer:LoadBalancer",
    "aws:lb/targetGroup:TargetGroup",
    "aws:rds/cluster:Cluster", "aws:rds/clusterInstance:ClusterInstance", "aws:rds/instance:Instance",
    "aws:rds/parameterGroup:ParameterGroup", "aws:rds/proxy:Proxy", "aws:rds/subnetGroup:SubnetGroup",
    "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2",
    "aws:secretsmanager/secret:Secret",
    "aws:sns/topic:Topic",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "aws:wafv2/webAcl:WebAcl",
})
DEFAULT_REQUIRED_TAGS = ["Project", "Environment", "Owner"]


def _required_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in TAGGABLE_TYPES:
        return
    required = args.get_config().get("requiredTags") or DEFAULT_REQUIRED_TAGS
    tags = {**provider_default_tags(args.provider), **(plain(args.props.get("tags")) or {})}
    missing = [key for key in required if not str(tags.get(key) or "").strip()]
    if missing:
        report(fix(f"Missing cost-allocation tag(s) {missing} (resource tags plus the provider's default tags).",
                   "set them once in the aws provider's default_tags (or on the resource's tags)."))


required_tags = ResourceValidationPolicy(
    name="required-tags",
    description="Taggable resources must carry the required cost-allocation tags (the provider's defaultTags count).",
    validate=_required_tags,
    enforcement_level=MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "requiredTags": {"type": "array", "items": {"type": "string"}, "default": DEFAULT_REQUIRED_TAGS},
    }),
)

POLICIES = [required_tags]
