"""Helpers shared by every rule module: type tokens, value readers, links between resources.

Rules read properties as the engine sends them (camelCase inputs; for stack policies at
`pulumi up` the outputs). A property built from another resource's output is unknown during a
first `pulumi preview`; reading it raises `UnknownValueError`, which the SDK turns into an
advisory "can't run policy during preview" note. Stack policies evaluate everything they can and
only then report what they had to skip (`StackChecker.finish`).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Iterable, Optional

from pulumi_policy import EnforcementLevel, PolicyResource, ReportViolation, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError, _DictProxy, _ListProxy

# Levels the rules are declared with; policies/config/<stack>.json sets the level per stack.
MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

# --- type tokens (aws:alb/* are aliases of aws:lb/* and are sent under their own token) ---------
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LISTENER_RULES = ("aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule")
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LEGACY_SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
MANAGED_PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
MANAGED_PREFIX_LIST_ENTRY = "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
ECS_CLUSTER = "aws:ecs/cluster:Cluster"
ECS_SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SCALABLE_TARGET = "aws:appautoscaling/target:Target"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
RDS_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
RDS_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
RDS_PROXY = "aws:rds/proxy:Proxy"
REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_CLUSTER = "aws:elasticache/cluster:Cluster"
CACHE_SUBNET_GROUP = "aws:elasticache/subnetGroup:SubnetGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
KMS_KEY = "aws:kms/key:Key"
SNS_TOPIC = "aws:sns/topic:Topic"
SQS_QUEUE = "aws:sqs/queue:Queue"
SQS_QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
SQS_REDRIVE_ALLOW_POLICY = "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"
SCHEDULE = "aws:scheduler/schedule:Schedule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
SUBNET = "aws:ec2/subnet:Subnet"
EC2_VPC = "aws:ec2/vpc:Vpc"
AWSX_VPC = "awsx:ec2:Vpc"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
WAF_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
BUCKET_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
BUCKET_VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
IAM_ROLE = "aws:iam/role:Role"
IAM_POLICY_DOCUMENT_HOLDERS = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
IAM_ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def truthy(value: Any) -> bool:
    """Booleans as the engine may send them: real booleans or the strings of provider config."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


# What `StackChecker.attempt` returns when a value cannot be known yet.
UNKNOWN = object()


def present(props: Mapping[str, Any], key: str) -> bool:
    """Is `key` set? An unknown (output-derived) value counts as set, so this never raises."""
    raw = props["__target"] if isinstance(props, _DictProxy) else props
    value = raw.get(key)
    if isinstance(value, (_DictProxy, _ListProxy)):
        return len(value) > 0
    return value not in (None, "", [], {})


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        return [value]
    return list(value)


def plain(value: Any) -> Any:
    """Copy a (proxied) property value into plain dicts/lists; raises on the first unknown."""
    if isinstance(value, Mapping):
        return {key: plain(value[key]) for key in value}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [plain(value[index]) for index in range(len(value))]
    return value


def json_document(value: Any) -> Any:
    """Policy documents and container definitions arrive as JSON strings (sometimes as objects)."""
    value = plain(value)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def fix(problem: str, remedy: str) -> str:
    """Every violation says what is wrong and how to fix it."""
    return f"{problem} How to fix: {remedy}"


def is_internet_cidr(cidr: Any) -> bool:
    """0.0.0.0/0 and ::/0, and every other spelling of 'most of the internet' (0.0.0.0/1, 2000::/3...)."""
    try:
        network = ipaddress.ip_network(str(cidr).strip(), strict=False)
    except ValueError:
        return False
    if network.version == 4:
        return network.prefixlen <= 8 and not network.is_private
    return network.prefixlen <= 16 and not network.is_private


def provider_default_tags(provider: Any) -> dict[str, str]:
    """The `defaultTags.tags` of a resource's aws provider (provider inputs carry objects as JSON)."""
    if provider is None or not str(getattr(provider, "resource_type", "")).startswith("pulumi:providers:aws"):
        return {}
    default_tags = json_document(provider.props.get("defaultTags")) or {}
    tags = default_tags.get("tags") if isinstance(default_tags, dict) else None
    return dict(tags) if isinstance(tags, dict) else {}


class PartiallyUnknown(UnknownValueError):
    """Raised after a stack policy checked what it could: names what could not be known yet."""

    def __init__(self, first: UnknownValueError, skipped: list[str]):
        super().__init__(first.unknown_type_sentinel, first.props)
        shown = ", ".join(skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
        self.message = f"{len(skipped)} resource(s) not checked ({shown}): {first.message}"


class StackChecker:
    """A view of the stack for cross-resource rules.

    Resources are linked by the engine's dependency graph (known even during preview) and, where
    known, by property values equal to the other resource's id, ARN or name.
    """

    def __init__(self, args: StackValidationArgs, report: ReportViolation):
        self.resources: list[PolicyResource] = list(args.resources)
        self.config = args.get_config()
        self._report = report
        self._skipped: list[str] = []
        self._first_unknown: Optional[UnknownValueError] = None

    def of_type(self, *types: str) -> list[PolicyResource]:
        wanted = {t for group in types for t in ((group,) if isinstance(group, str) else group)}
        return [r for r in self.resources if r.resource_type in wanted]

    def violation(self, resource: Optional[PolicyResource], message: str) -> None:
        self._report(message, resource.urn if resource is not None else None)

    def attempt(self, resource: PolicyResource, check: Callable[[], Any], default: Any = None) -> Any:
        try:
            return check()
        except UnknownValueError as unknown:
            self.skip(resource, unknown)
            return default

    def skip(self, resource: PolicyResource, unknown: UnknownValueError) -> None:
        self._skipped.append(resource.name)
        if self._first_unknown is None:
            self._first_unknown = unknown

    def finish(self) -> None:
        if self._first_unknown is not None:
            raise PartiallyUnknown(self._first_unknown, self._skipped)

    # --- links --------------------------------------------------------------------------
    @staticmethod
    def identities(resource: PolicyResource) -> set[str]:
        """Values other resources use to point at this one (whatever of them is known)."""
        found: set[str] = set()
        for key in ("id", "arn", "name", "bucket"):
            try:
                value = resource.props.get(key)
            except UnknownValueError:
                continue
            if isinstance(value, str) and value:
                found.add(value)
        return found

    def links(self, source: PolicyResource, target: PolicyResource, *property_names: str) -> bool:
        """Does `source` point at `target` (through `property_names` when values are known)?"""
        deps = source.property_dependencies
        if property_names and deps and any(name in deps for name in property_names):
            return any(dep.urn == target.urn for name in property_names for dep in deps.get(name, []))
        if any(dep.urn == target.urn for dep in source.dependencies):
            return True
        identities = self.identities(target)
        if not identities:
            return False
        for name in property_names:
            try:
                values = as_list(plain(source.props.get(name)))
            except UnknownValueError:
                continue
            if any(isinstance(v, str) and v in identities for v in values):
                return True
        return False

    def linked(self, source: PolicyResource, candidates: Iterable[PolicyResource], *property_names: str) -> list[PolicyResource]:
        return [c for c in candidates if c.urn != source.urn and self.links(source, c, *property_names)]

    def linking_to(self, target: PolicyResource, sources: Iterable[PolicyResource], *property_names: str) -> list[PolicyResource]:
        return [s for s in sources if s.urn != target.urn and self.links(s, target, *property_names)]


def subnet_tiers(checker: StackChecker) -> tuple[set[str], set[str], bool]:
    """(private ids, public ids, complete) over the VPCs of the stack.

    Private means a VPC component's `privateSubnetIds`/`isolatedSubnetIds` (awsx routes these
    through NAT or nowhere, never an internet gateway); public means its `publicSubnetIds` or an
    `aws:ec2/subnet:Subnet` that auto-assigns public IPs. `complete` is False when some VPC's
    subnet lists are not known yet (first preview).
    """
    private: set[str] = set()
    public: set[str] = set()
    complete = True
    for vpc in checker.of_type(AWSX_VPC):
        try:
            private.update(plain(vpc.props.get("privateSubnetIds")) or [])
            private.update(plain(vpc.props.get("isolatedSubnetIds")) or [])
            public.update(plain(vpc.props.get("publicSubnetIds")) or [])
        except UnknownValueError as unknown:
            checker.skip(vpc, unknown)
            complete = False
    for subnet in checker.of_type(SUBNET):
        try:
            if truthy(subnet.props.get("mapPublicIpOnLaunch")) and subnet.props.get("id"):
                public.add(subnet.props["id"])
        except UnknownValueError:
            continue
    return private - public, public, complete
