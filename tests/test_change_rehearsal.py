"""Change rehearsal: every routine change the README offers, run before and after under mocks.

Each case runs the program twice with a committed stack's config (`conftest.run_stack`): as the stack
stands, and with one documented change applied. Under Pulumi the URN is a resource's identity across
runs: the same URN with different inputs is an update (or, if a replacement-forcing input changed, a
replacement); a URN that disappears is a delete. So for every case, on dev and prod:

(a) every stateful resource (RDS instances, the ElastiCache replication group, S3 buckets, ECR
    repositories, Secrets Manager secrets, KMS keys, log groups, and the subnet groups whose names the
    data stores hold) keeps its URN;
(b) none of their replacement-forcing inputs changes (`REPLACEMENT_FORCING`: one row per type and input,
    each citing where the provider says so);
(c) the options that let the update succeed are set: `forceNewDeployment` on every ECS service (the
    provider refuses a capacity provider change without it), `allowMajorVersionUpgrade` on the RDS
    instance (RDS refuses a major EngineVersion without it), `deleteBeforeReplace` on every resource with
    a fixed physical name (in prod `protect` also counts), `protect` on prod's stateful resources.

What mocks cannot show: the provider's own diff (whether it plans an update or a replacement) and the
names the provider draws for auto-named resources (mocks return the same name on every run). So the
replacement-forcing inputs are compared directly, and a resource whose change does force a replacement
(a parameter group's family, an RDS Proxy's subnets) is asserted to be auto-named without
`deleteBeforeReplace`, which is what lets Pulumi create the new one before the old is deleted.
docs/changes.md says what each change does in AWS.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Optional

import pytest

from preflight.capture import CapturedResource, ProgramRun
from stackconfig.network import subnet_layout
from tests.conftest import container_definitions, run_stack

RDS_INSTANCE = "aws:rds/instance:Instance"
REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
BUCKET = "aws:s3/bucket:Bucket"
REPOSITORY = "aws:ecr/repository:Repository"
SECRET = "aws:secretsmanager/secret:Secret"
KMS_KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
DB_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
CACHE_SUBNET_GROUP = "aws:elasticache/subnetGroup:SubnetGroup"
DB_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
ECS_SERVICE = "aws:ecs/service:Service"
VPC = "awsx:ec2:Vpc"
PROXY = "aws:rds/proxy:Proxy"
QUEUE = "aws:sqs/queue:Queue"

TF = "hashicorp/terraform-provider-aws"
RDS_SOURCE = f"{TF} internal/service/rds/instance.go, ResourceInstance() schema"
REDIS_SOURCE = f"{TF} internal/service/elasticache/replication_group.go, resourceReplicationGroup() schema"

# (type, input as the engine sees it, why changing it replaces the resource). The provider's schema marks
# these `ForceNew: true` (pulumi-aws 7 bridges terraform-provider-aws 6; its own schema.json carries no
# ForceNew flag). A documented change must leave every one of them as it was.
REPLACEMENT_FORCING: list[tuple[str, str, str]] = [
    (RDS_INSTANCE, "identifier", f"{RDS_SOURCE}: `identifier` (ForceNew before provider v5; since then a rename "
                                 "that reboots the instance, and the log groups, alarms and dashboard are named "
                                 "after it, so it is held constant)"),
    (RDS_INSTANCE, "availabilityZone", f"{RDS_SOURCE}: `availability_zone` ForceNew"),
    (RDS_INSTANCE, "dbName", f"{RDS_SOURCE}: `db_name` ForceNew"),
    (RDS_INSTANCE, "engine", f"{RDS_SOURCE}: `engine` ForceNew"),
    (RDS_INSTANCE, "kmsKeyId", f"{RDS_SOURCE}: `kms_key_id` ForceNew"),
    (RDS_INSTANCE, "storageEncrypted", f"{RDS_SOURCE}: `storage_encrypted` ForceNew"),
    (RDS_INSTANCE, "username", f"{RDS_SOURCE}: `username` ForceNew"),
    (RDS_INSTANCE, "characterSetName", f"{RDS_SOURCE}: `character_set_name` ForceNew"),
    (RDS_INSTANCE, "ncharCharacterSetName", f"{RDS_SOURCE}: `nchar_character_set_name` ForceNew"),
    (RDS_INSTANCE, "timezone", f"{RDS_SOURCE}: `timezone` ForceNew"),
    (RDS_INSTANCE, "snapshotIdentifier", f"{RDS_SOURCE}: `snapshot_identifier` ForceNew"),
    (RDS_INSTANCE, "restoreToPointInTime", f"{RDS_SOURCE}: `restore_to_point_in_time` ForceNew"),
    (RDS_INSTANCE, "backupTarget", f"{RDS_SOURCE}: `backup_target` ForceNew"),
    (RDS_INSTANCE, "customIamInstanceProfile", f"{RDS_SOURCE}: `custom_iam_instance_profile` ForceNew"),
    (RDS_INSTANCE, "replicateSourceDb", f"{RDS_SOURCE}: `replicate_source_db` (not ForceNew: removing it "
                                        "promotes a replica to a standalone instance)"),
    (REPLICATION_GROUP, "replicationGroupId", f"{REDIS_SOURCE}: `replication_group_id` ForceNew"),
    (REPLICATION_GROUP, "atRestEncryptionEnabled", f"{REDIS_SOURCE}: `at_rest_encryption_enabled` ForceNew"),
    (REPLICATION_GROUP, "kmsKeyId", f"{REDIS_SOURCE}: `kms_key_id` ForceNew"),
    (REPLICATION_GROUP, "port", f"{REDIS_SOURCE}: `port` ForceNew"),
    (REPLICATION_GROUP, "subnetGroupName", f"{REDIS_SOURCE}: `subnet_group_name` ForceNew"),
    (REPLICATION_GROUP, "networkType", f"{REDIS_SOURCE}: `network_type` ForceNew"),
    (REPLICATION_GROUP, "dataTieringEnabled", f"{REDIS_SOURCE}: `data_tiering_enabled` ForceNew"),
    (REPLICATION_GROUP, "snapshotName", f"{REDIS_SOURCE}: `snapshot_name` ForceNew"),
    (REPLICATION_GROUP, "snapshotArns", f"{REDIS_SOURCE}: `snapshot_arns` ForceNew"),
    (REPLICATION_GROUP, "globalReplicationGroupId", f"{REDIS_SOURCE}: `global_replication_group_id` ForceNew"),
    (REPLICATION_GROUP, "engine", f"{REDIS_SOURCE}: customizeDiffEngineForceNewOnDowngrade (valkey -> redis)"),
    (REPLICATION_GROUP, "engineVersion", f"{REDIS_SOURCE}: customizeDiffEngineVersionForceNewOnDowngrade"),
    (REPLICATION_GROUP, "transitEncryptionEnabled", f"{REDIS_SOURCE}: ForceNewIf engine_version_actual < 7.0.5"),
    (DB_SUBNET_GROUP, "name", f"{TF} internal/service/rds/subnet_group.go: `name` ForceNew (auto-named here; the "
                              "instance holds the name)"),
    (CACHE_SUBNET_GROUP, "name", f"{TF} internal/service/elasticache/subnet_group.go: `name` ForceNew (auto-named "
                                 "here; the replication group's subnet_group_name, itself ForceNew, holds it)"),
    (BUCKET, "bucket", f"{TF} internal/service/s3/bucket.go: `bucket` ForceNew"),
    (BUCKET, "bucketPrefix", f"{TF} internal/service/s3/bucket.go: `bucket_prefix` ForceNew"),
    (BUCKET, "objectLockEnabled", f"{TF} internal/service/s3/bucket.go: `object_lock_enabled` ForceNew"),
    (REPOSITORY, "name", f"{TF} internal/service/ecr/repository.go, resourceRepository(): `name` ForceNew"),
    (REPOSITORY, "encryptionConfigurations", f"{TF} internal/service/ecr/repository.go, resourceRepository(): "
                                             "`encryption_configuration` (encryption_type, kms_key) ForceNew"),
    (SECRET, "name", f"{TF} internal/service/secretsmanager/secret.go, resourceSecret(): `name` ForceNew"),
    (SECRET, "namePrefix", f"{TF} internal/service/secretsmanager/secret.go, resourceSecret(): `name_prefix` ForceNew"),
    (KMS_KEY, "keyUsage", f"{TF} internal/service/kms/key.go: `key_usage` ForceNew"),
    (KMS_KEY, "customerMasterKeySpec", f"{TF} internal/service/kms/key.go: `customer_master_key_spec` ForceNew"),
    (KMS_KEY, "multiRegion", f"{TF} internal/service/kms/key.go: `multi_region` ForceNew"),
    (KMS_KEY, "customKeyStoreId", f"{TF} internal/service/kms/key.go: `custom_key_store_id` ForceNew"),
    (LOG_GROUP, "name", f"{TF} internal/service/logs/group.go: `name` ForceNew"),
    (LOG_GROUP, "namePrefix", f"{TF} internal/service/logs/group.go: `name_prefix` ForceNew"),
    (LOG_GROUP, "logGroupClass", f"{TF} internal/service/logs/group.go: `log_group_class` ForceNew"),
    # A queue holds its messages: replacing it (or its dead-letter queue) loses them.
    (QUEUE, "name", f"{TF} internal/service/sqs/queue.go: `name` ForceNew"),
    (QUEUE, "namePrefix", f"{TF} internal/service/sqs/queue.go: `name_prefix` ForceNew"),
    (QUEUE, "fifoQueue", f"{TF} internal/service/sqs/queue.go: `fifo_queue` ForceNew"),
]
STATEFUL_TYPES = sorted({resource_type for resource_type, _, _ in REPLACEMENT_FORCING})

# The input that holds a physical name the program chooses, where it is not `name`. Auto-named resources
# carry no name input at all under mocks: the provider draws it at `pulumi up`, and draws a new one for a
# replacement, so Pulumi can create the new resource before deleting the old. Task definitions are not
# named (`family` is shared by every revision; each change registers a new one next to the old).
NAME_INPUT = {
    RDS_INSTANCE: "identifier",
    REPLICATION_GROUP: "replicationGroupId",
    "aws:cloudwatch/dashboard:Dashboard": "dashboardName",
    BUCKET: "bucket",
    # One lifecycle policy per repository, addressed by the repository's (fixed) name.
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "repository",
}


# --- harness ---------------------------------------------------------------------------------------

Config = dict[str, Any]


def section(config: Config, key: str) -> dict:
    """A `webstack:<key>` section of a stack's config, created when the stack has none."""
    return config.setdefault(f"webstack:{key}", {})


@dataclass(frozen=True)
class Change:
    """One documented change: `apply` turns the stack's config into the changed one.

    `baseline` first puts the stack where the change starts from (e.g. a stack created without the
    isolated tier), for both runs. `retires` names the components (type tokens) the change removes on
    purpose, with everything in them: their stateful children are meant to go.
    """

    id: str
    apply: Callable[[Config], None]
    baseline: Optional[Callable[[Config], None]] = None
    stacks: tuple[str, ...] = ("dev", "prod")
    retires: tuple[str, ...] = ()


@lru_cache(maxsize=None)
def starting_point(stack: str, baseline: Optional[Callable[[Config], None]]) -> ProgramRun:
    """A stack as it stands before a change; changes that share a baseline share the run."""
    return run_stack(stack, baseline)


@lru_cache(maxsize=None)
def rehearse(change_id: str, stack: str) -> tuple[ProgramRun, ProgramRun]:
    """(before, after) of one change on one stack; each is run once per session."""
    change = CHANGES[change_id]

    def after(config: Config) -> None:
        if change.baseline is not None:
            change.baseline(config)
        change.apply(config)

    return starting_point(stack, change.baseline), run_stack(stack, after)


def by_urn(run: ProgramRun) -> dict[str, CapturedResource]:
    return {resource.urn: resource for resource in run.resources}


def stateful(run: ProgramRun) -> list[CapturedResource]:
    return [resource for resource in run.resources if resource.type in STATEFUL_TYPES]


def physical_name(resource: CapturedResource) -> Optional[Any]:
    """The fixed physical name the program gives a resource, or None when the provider names it."""
    return resource.inputs.get(NAME_INPUT.get(resource.type, "name")) if resource.custom else None


def primary_instances(run: ProgramRun) -> list[CapturedResource]:
    return [r for r in run.of_type(RDS_INSTANCE) if "replicateSourceDb" not in r.inputs]


def assert_rehearsal(before: ProgramRun, after: ProgramRun, retires: tuple[str, ...] = ()) -> None:
    """(a), (b) and (c) of the module docstring; stateful resources inside a retired component may go."""
    after_by_urn = by_urn(after)
    for old in stateful(before):
        if any(f"::{component}$" in old.urn for component in retires):
            assert old.urn not in after_by_urn, f"{old.urn} should be retired with its component"
            continue
        # (a) the same resource, updated in place.
        assert old.urn in after_by_urn, f"{old.urn} would be deleted"
        new = after_by_urn[old.urn]
        # (b) no input that forces a replacement moves.
        for resource_type, key, source in REPLACEMENT_FORCING:
            if resource_type == old.type:
                assert new.inputs.get(key) == old.inputs.get(key), (
                    f"{old.urn}: {key} changes from {old.inputs.get(key)!r} to {new.inputs.get(key)!r}, "
                    f"which replaces it ({source})"
                )
    assert_update_options(after)


def assert_update_options(run: ProgramRun) -> None:
    """(c): what makes each update succeed, on every resource of the run."""
    production = run.stack == "prod"
    services = run.of_type(ECS_SERVICE)
    assert services
    for service in services:
        assert service.inputs.get("forceNewDeployment") is True, service.urn
    assert primary_instances(run)
    for instance in primary_instances(run):
        assert instance.inputs.get("allowMajorVersionUpgrade") is True, instance.urn
    for resource in run.resources:
        if physical_name(resource) is not None:
            assert resource.delete_before_replace or (production and resource.protect), (
                f"{resource.urn} has the fixed name {physical_name(resource)!r} but would be replaced "
                f"create-before-delete"
            )
    if production:
        media = [bucket for bucket in run.of_type(BUCKET) if bucket.name == "media-bucket"]
        for resource in [*run.of_type(RDS_INSTANCE), *media]:
            assert resource.protect, f"{resource.urn} is not protected in prod"


# --- the documented changes --------------------------------------------------------------------------

def flip_spot(config: Config) -> None:
    for service in section(config, "services").values():
        service["spot"] = not service.get("spot", False)


def bump_engine(config: Config) -> None:
    section(config, "database")["engineVersion"] = "17"


def with_replica(config: Config) -> None:
    database = section(config, "database")
    database["managedMasterPassword"] = False
    database["readReplicas"] = 1


def with_larger_replica(config: Config) -> None:
    with_replica(config)
    section(config, "database")["replicaInstanceClass"] = "db.r7g.large"


def bigger_instance(config: Config) -> None:
    database = section(config, "database")
    database["instanceClass"] = {"db.t4g.micro": "db.t4g.small", "db.t4g.medium": "db.t4g.large"}[
        database["instanceClass"]
    ]


def bigger_node(config: Config) -> None:
    section(config, "cache")["nodeType"] = "cache.t4g.medium"


def add_zone(config: Config) -> None:
    zones = section(config, "network")["availabilityZones"]
    zones.append(f"us-east-1{chr(ord(zones[-1][-1]) + 1)}")


def add_service(config: Config) -> None:
    section(config, "services")["admin"] = {
        "image": {"repository": "admin", "tag": "2f1c9e0"},
        "port": 8080,
        "routes": {"paths": ["/internal/*"], "priority": 20},
        "scaling": {"min": 2, "max": 4},
    }


def enable_proxy(config: Config) -> None:
    section(config, "database").setdefault("proxy", {})["enabled"] = True


def stop_managing_password(config: Config) -> None:
    section(config, "database")["managedMasterPassword"] = False


def add_replica(config: Config) -> None:
    section(config, "database")["readReplicas"] = 1


def rename_domain(config: Config) -> None:
    section(config, "domain")["recordName"] = "shop.example.com"


def without_isolated_tier(config: Config) -> None:
    section(config, "network")["isolatedSubnets"] = False


def with_isolated_tier(config: Config) -> None:
    section(config, "network")["isolatedSubnets"] = True


def more_cache_replicas(config: Config) -> None:
    cache = section(config, "cache")
    cache["replicas"] = cache.get("replicas", 0) + 1


def longer_retention(config: Config) -> None:
    logs = section(config, "logs")
    logs["retentionDays"] = {7: 14, 30: 60}[logs["retentionDays"]]


def resize_backend(config: Config) -> None:
    backend = section(config, "services")["backend"]
    backend["cpu"], backend["memory"] = 1024, 2048


def new_image_tag(config: Config) -> None:
    section(config, "services")["backend"]["image"]["tag"] = "9d8c7b6a5f4e"


def retune_queue(config: Config) -> None:
    section(config, "queues")["tasks"].update(visibilityTimeout=900, retention=86400, maxReceiveCount=3,
                                              deadLetterRetention=604800)


def queue_on_kms(config: Config) -> None:
    section(config, "queues")["tasks"]["encryption"] = "kms"


def queue_on_sse_sqs(config: Config) -> None:
    section(config, "queues")["tasks"]["encryption"] = "sqs"
def backend_blue_green(config: Config) -> None:
    section(config, "services")["backend"]["deployment"] = {"strategy": "blueGreen"}


def backend_writes_to_var_cache(config: Config) -> None:
    section(config, "services")["backend"]["writablePaths"] = ["/tmp", "/var/cache/app"]


def without_service_connect(config: Config) -> None:
    for service in section(config, "services").values():
        service.pop("connect", None)
        service.pop("calls", None)


def frontend_calls_backend(config: Config) -> None:
    services = section(config, "services")
    services["backend"]["connect"] = {}
    services["frontend"]["calls"] = ["backend"]


def waf_on(config: Config) -> None:
    section(config, "loadBalancer")["waf"] = {"enabled": True}


def waf_off(config: Config) -> None:
    section(config, "loadBalancer")["waf"] = {"enabled": False}


def media_access_logs(enabled: bool):
    def edit(config: Config) -> None:
        section(config, "accessLogs")["enabled"] = True
        section(config, "storage")["accessLogs"] = enabled
    return edit


CHANGES = {change.id: change for change in [
    Change("flip-spot", flip_spot),
    Change("engine-16-to-17", bump_engine),
    Change("engine-16-to-17-with-replica", bump_engine, baseline=with_replica),
    Change("engine-16-to-17-with-larger-replica", bump_engine, baseline=with_larger_replica),
    Change("instance-class", bigger_instance),
    Change("instance-class-with-replica", bigger_instance, baseline=with_replica),
    Change("cache-node-type", bigger_node),
    Change("add-availability-zone", add_zone),
    Change("add-availability-zone-with-proxy", add_zone, baseline=enable_proxy),
    Change("add-service", add_service),
    Change("enable-proxy", enable_proxy),
    # The RDS-managed secret no longer rotates, so its redeploy-on-rotation machinery (and its log
    # group of state-machine runs) goes with it.
    Change("managed-password-off", stop_managing_password, retires=("webstack:rotation:SecretRotationRedeploy",)),
    Change("add-read-replica", add_replica, baseline=stop_managing_password),
    Change("rename-domain", rename_domain, stacks=("prod",)),
    Change("isolated-tier-on", with_isolated_tier, baseline=without_isolated_tier),
    Change("cache-replicas", more_cache_replicas),
    Change("log-retention", longer_retention),
    Change("service-cpu-memory", resize_backend),
    Change("service-image-tag", new_image_tag),
    Change("deployment-blue-green", backend_blue_green),
    Change("writable-paths", backend_writes_to_var_cache),
    Change("service-connect-on", frontend_calls_backend, baseline=without_service_connect),
    Change("queue-settings", retune_queue),
    Change("queue-encryption-kms", queue_on_kms, baseline=queue_on_sse_sqs),
    Change("waf-on", waf_on, baseline=waf_off),
    Change("media-access-logs-on", media_access_logs(True), baseline=media_access_logs(False)),
]}
CASES = [(change.id, stack) for change in CHANGES.values() for stack in change.stacks]


@pytest.mark.parametrize("change_id,stack", CASES)
def test_change_updates_in_place(change_id, stack):
    before, after = rehearse(change_id, stack)
    assert_rehearsal(before, after, CHANGES[change_id].retires)


# --- what each change must do (so a case cannot pass by changing nothing) -------------------------

def named(run: ProgramRun, resource_type: str, name: str) -> CapturedResource:
    """A resource by type and name (a role and a task definition may share a name)."""
    (found,) = [r for r in run.of_type(resource_type) if r.name == name]
    return found


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_flipping_spot_changes_the_strategy_of_the_same_services(stack):
    before, after = rehearse("flip-spot", stack)
    for service in ("backend-service", "frontend-service"):
        old, new = named(before, ECS_SERVICE, service), named(after, ECS_SERVICE, service)
        assert new.urn == old.urn
        assert new.inputs["capacityProviderStrategies"] != old.inputs["capacityProviderStrategies"]
        # Both strategies are non-empty: the provider updates with force_new_deployment (an empty one, i.e. a
        # launch type, would still replace the service).
        assert old.inputs["capacityProviderStrategies"] and new.inputs["capacityProviderStrategies"]
        assert new.inputs["forceNewDeployment"] is True


@pytest.mark.parametrize("change_id", [
    "engine-16-to-17", "engine-16-to-17-with-replica", "engine-16-to-17-with-larger-replica",
])
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_major_upgrade_moves_every_parameter_group_to_the_new_family(change_id, stack):
    """The family forces a new parameter group; auto-named and created first, it exists before the
    instance and its replicas switch to it, and the old one is deleted once nothing uses it."""
    before, after = rehearse(change_id, stack)
    old_instance, new_instance = primary_instances(before)[0], primary_instances(after)[0]
    assert (old_instance.inputs["engineVersion"], new_instance.inputs["engineVersion"]) == ("16", "17")
    assert new_instance.inputs["allowMajorVersionUpgrade"] is True
    before_by_urn = by_urn(before)
    groups = after.of_type(DB_PARAMETER_GROUP)
    assert groups and {group.urn for group in groups} == {g.urn for g in before.of_type(DB_PARAMETER_GROUP)}
    for group in groups:
        assert (before_by_urn[group.urn].inputs["family"], group.inputs["family"]) == ("postgres16", "postgres17")
        assert "name" not in group.inputs and "namePrefix" not in group.inputs
        assert not group.delete_before_replace
    # Every instance (primary and replicas) uses one of these groups, named by the group itself.
    group_names = {group.outputs["name"] for group in groups}
    for instance in after.of_type(RDS_INSTANCE):
        assert instance.inputs["parameterGroupName"] in group_names
        # Replicas follow the primary's version (RDS upgrades them with it); none is pinned.
        if "replicateSourceDb" in instance.inputs:
            assert "engineVersion" not in instance.inputs


@pytest.mark.parametrize("change_id", ["instance-class", "instance-class-with-replica"])
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_instance_class_change_resizes_the_parameters_in_place(change_id, stack):
    before, after = rehearse(change_id, stack)
    old, new = primary_instances(before)[0], primary_instances(after)[0]
    assert old.inputs["instanceClass"] != new.inputs["instanceClass"]
    old_group, new_group = named(before, DB_PARAMETER_GROUP, "database-params"), named(after, DB_PARAMETER_GROUP, "database-params")
    # A parameter group's description forces its replacement: it must not follow the class.
    assert new_group.inputs["description"] == old_group.inputs["description"]
    assert new_group.inputs["family"] == old_group.inputs["family"]
    assert new_group.inputs["parameters"] != old_group.inputs["parameters"]  # max_connections etc. follow


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_cache_node_type_and_replicas_change_the_same_group(stack):
    for change_id, key in (("cache-node-type", "nodeType"), ("cache-replicas", "numCacheClusters")):
        before, after = rehearse(change_id, stack)
        old, new = before.one(REPLICATION_GROUP), after.one(REPLICATION_GROUP)
        assert new.urn == old.urn and new.inputs[key] != old.inputs[key]
        assert new.delete_before_replace


@pytest.mark.parametrize("change_id", ["add-availability-zone", "add-availability-zone-with-proxy"])
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_adding_a_zone_keeps_every_existing_subnet(change_id, stack):
    """Visible under mocks: the awsx VPC's arguments and the subnet ids the data tier is given. Not
    visible: the VPC's children (subnets, route tables, NAT gateways), which awsx creates remotely; the
    layout they get is `subnet_layout` of those arguments (tests/test_config.py checks it against awsx's
    allocation), so an unchanged CIDR, AZ block and tier list mean no existing subnet moves."""
    before, after = rehearse(change_id, stack)
    old_vpc, new_vpc = before.one(VPC).inputs, after.one(VPC).inputs
    assert new_vpc["availabilityZoneNames"][:-1] == old_vpc["availabilityZoneNames"]
    for key in ("cidrBlock", "availabilityZoneCidrMask", "subnetSpecs", "subnetStrategy"):
        assert new_vpc[key] == old_vpc[key], key
    zones = len(old_vpc["availabilityZoneNames"])
    tiers, mask = len(old_vpc["subnetSpecs"]), old_vpc["subnetSpecs"][0]["cidrMask"]
    assert subnet_layout(new_vpc["cidrBlock"], zones + 1, tiers, mask)[:zones] == \
        subnet_layout(old_vpc["cidrBlock"], zones, tiers, mask)
    # The data tier's subnet groups gain the new zone's subnet and keep the others (modified in place).
    for group_type in (DB_SUBNET_GROUP, CACHE_SUBNET_GROUP):
        old_ids, new_ids = before.one(group_type).inputs["subnetIds"], after.one(group_type).inputs["subnetIds"]
        assert set(old_ids) < set(new_ids) and len(new_ids) == len(old_ids) + 1
    if change_id.endswith("with-proxy"):
        # The proxy's subnets force its replacement: auto-named, the new proxy is created first.
        old_proxy, new_proxy = before.one(PROXY), after.one(PROXY)
        assert set(old_proxy.inputs["vpcSubnetIds"]) < set(new_proxy.inputs["vpcSubnetIds"])
        assert "name" not in new_proxy.inputs and not new_proxy.delete_before_replace


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_isolated_tier_moves_the_data_tier_off_every_subnet_it_used(stack):
    """Turning the isolated tier on for a stack created without it keeps every resource (the VPC gains
    a tier after the existing ones, so no subnet moves), but the database and cache subnet groups
    switch wholesale from the private subnets to the new isolated ones. RDS and ElastiCache refuse to
    remove a subnet that an instance or node runs in, so on a stack that already has a database or a
    cache this `pulumi up` fails at the subnet groups: docs/changes.md lists it as refused and gives
    the way to do it. This test pins the reason, so a change to that behaviour is seen here first."""
    before, after = rehearse("isolated-tier-on", stack)
    old_specs, new_specs = before.one(VPC).inputs["subnetSpecs"], after.one(VPC).inputs["subnetSpecs"]
    assert new_specs[:len(old_specs)] == old_specs and new_specs[-1]["type"] == "Isolated"
    vpc_outputs = after.one(VPC).outputs
    for group_type in (DB_SUBNET_GROUP, CACHE_SUBNET_GROUP):
        old_ids, new_ids = before.one(group_type).inputs["subnetIds"], after.one(group_type).inputs["subnetIds"]
        assert old_ids == before.one(VPC).outputs["privateSubnetIds"]
        assert new_ids == vpc_outputs["isolatedSubnetIds"]
        assert not set(old_ids) & set(new_ids)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_adding_a_service_adds_resources_and_touches_no_other_service(stack):
    before, after = rehearse("add-service", stack)
    old_urns = {r.urn for r in before.resources}
    added = [r for r in after.resources if r.urn not in old_urns]
    assert {r.name for r in added} >= {"admin-service", "admin-task", "admin-repo", "admin-logs"}
    for service in ("backend-service", "frontend-service"):
        assert named(after, ECS_SERVICE, service).inputs == named(before, ECS_SERVICE, service).inputs
    assert named(after, ECS_SERVICE, "admin-service").inputs["forceNewDeployment"] is True
    assert named(after, REPOSITORY, "admin-repo").delete_before_replace


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_turning_on_service_connect_updates_the_same_services_and_keeps_their_task_definitions(stack):
    before, after = rehearse("service-connect-on", stack)
    old_urns = {r.urn for r in before.resources}
    added = {r.name for r in after.resources if r.urn not in old_urns}
    assert added == {"service-connect", "service-connect-namespace", "backend-from-frontend"}
    assert {r.urn for r in after.resources} >= old_urns
    for name in ("backend", "frontend"):
        old, new = named(before, ECS_SERVICE, f"{name}-service"), named(after, ECS_SERVICE, f"{name}-service")
        assert "serviceConnectConfiguration" not in old.inputs
        assert new.inputs["serviceConnectConfiguration"]["enabled"] is True
        assert {k: v for k, v in new.inputs.items() if k != "serviceConnectConfiguration"} == old.inputs
        # No new revision: the port mapping already had its name; the security group (description forces a
        # replacement) is unchanged, only a rule is added.
        for resource_type, suffix in (("aws:ecs/taskDefinition:TaskDefinition", "task"),
                                      ("aws:ec2/securityGroup:SecurityGroup", "sg")):
            assert named(after, resource_type, f"{name}-{suffix}").inputs == \
                named(before, resource_type, f"{name}-{suffix}").inputs


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_enabling_the_proxy_points_the_services_at_it(stack):
    before, after = rehearse("enable-proxy", stack)
    assert before.of_type(PROXY) == []
    proxy = after.one(PROXY)
    assert "name" not in proxy.inputs  # auto-named
    environment = {e["name"]: e["value"] for e in container_definitions(after, "-backend")[0]["environment"]}
    assert environment["DATABASE_HOST"] == proxy.outputs["endpoint"]


@pytest.mark.parametrize("change_id", ["add-read-replica", "managed-password-off"])
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_replica_and_password_changes_keep_the_primary(change_id, stack):
    before, after = rehearse(change_id, stack)
    assert primary_instances(after)[0].urn == primary_instances(before)[0].urn
    if change_id == "add-read-replica":
        replicas = [r for r in after.of_type(RDS_INSTANCE) if "replicateSourceDb" in r.inputs]
        assert len(replicas) == 1 and replicas[0].delete_before_replace
        assert replicas[0].protect is (stack == "prod")
        replica_logs = [r for r in after.of_type(LOG_GROUP) if "-replica-1/" in str(r.inputs.get("name"))]
        assert len(replica_logs) == 2 and all(r.delete_before_replace for r in replica_logs)


def test_renaming_the_domain_creates_the_new_names_records_before_deleting_the_old():
    before, after = rehearse("rename-domain", "prod")
    old_records = {r.urn: r for r in before.of_type("aws:route53/record:Record")}
    new_records = {r.urn: r for r in after.of_type("aws:route53/record:Record")}
    # The records are named after their DNS name: the new name's are new resources, nothing is renamed.
    assert not old_records.keys() & new_records.keys()
    assert {r.inputs["name"] for r in new_records.values() if r.inputs["type"] == "A"} == {"shop.example.com"}
    assert all(r.delete_before_replace for r in new_records.values())
    # The certificate (domain_name forces a new one) is auto-named: the new one is issued first.
    certificate = after.one("aws:acm/certificate:Certificate")
    assert certificate.inputs["domainName"] == "shop.example.com" and not certificate.delete_before_replace


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_retention_change_updates_every_log_group(stack):
    before, after = rehearse("log-retention", stack)
    for group in after.of_type(LOG_GROUP):
        assert group.inputs["retentionInDays"] != by_urn(before)[group.urn].inputs["retentionInDays"]


@pytest.mark.parametrize("change_id", ["service-cpu-memory", "service-image-tag"])
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_service_changes_register_a_new_revision_of_the_same_family(change_id, stack):
    before, after = rehearse(change_id, stack)
    task_definition = "aws:ecs/taskDefinition:TaskDefinition"
    old_task, new_task = named(before, task_definition, "backend-task"), named(after, task_definition, "backend-task")
    assert old_task.urn == new_task.urn and old_task.inputs["family"] == new_task.inputs["family"]
    assert (old_task.inputs["cpu"], old_task.inputs["containerDefinitions"]) != \
        (new_task.inputs["cpu"], new_task.inputs["containerDefinitions"])
    # Every input of a task definition forces a new revision: it must be created before the old is retired.
    assert not new_task.delete_before_replace
    assert named(after, ECS_SERVICE, "backend-service").inputs["forceNewDeployment"] is True


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_switching_to_blue_green_updates_the_service_and_its_rule_in_place(stack):
    before, after = rehearse("deployment-blue-green", stack)
    rule_type, group_type = "aws:lb/listenerRule:ListenerRule", "aws:lb/targetGroup:TargetGroup"
    old_rule, new_rule = named(before, rule_type, "backend-route"), named(after, rule_type, "backend-route")
    old_service, new_service = named(before, ECS_SERVICE, "backend-service"), named(after, ECS_SERVICE, "backend-service")
    # Same URNs: the service and the production rule are updated, not replaced; the primary group stays.
    assert old_rule.urn == new_rule.urn and old_service.urn == new_service.urn
    assert named(before, group_type, "backend-tg").inputs == named(after, group_type, "backend-tg").inputs
    # From now on ECS owns the rule's actions: this `up` keeps the old single-group forward (docs/changes.md).
    assert new_rule.ignore_changes == ("actions",) and old_rule.ignore_changes == ()
    assert new_service.inputs["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert new_service.inputs["deploymentCircuitBreaker"] == {"enable": False, "rollback": False}
    added = {r.name for r in after.resources} - {r.name for r in before.resources}
    assert added == {"backend-tg-alt", "backend-traffic", "backend-traffic-managed"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_writable_paths_register_a_new_revision_with_the_volumes(stack):
    before, after = rehearse("writable-paths", stack)
    task_definition = "aws:ecs/taskDefinition:TaskDefinition"
    old_task, new_task = named(before, task_definition, "backend-task"), named(after, task_definition, "backend-task")
    assert old_task.urn == new_task.urn and not new_task.delete_before_replace
    assert new_task.inputs["volumes"] == [{"name": "writable-tmp"}, {"name": "writable-var-cache-app"}]


# --- fixed physical names ------------------------------------------------------------------------

def everything(config: Config) -> None:
    """Every optional resource that has a fixed name: replicas (with their log groups), the proxy,
    scheduled scaling, a CDN and alternative domain names."""
    with_larger_replica(config)
    enable_proxy(config)
    section(config, "services")["frontend"].setdefault("scaling", {})["schedules"] = [
        {"name": "night", "schedule": "cron(0 20 * * ? *)", "min": 1, "max": 2, "timezone": "Europe/Berlin"},
    ]
    section(config, "storage")["cdn"] = True
    section(config, "domain").update({"zoneName": "example.com", "recordName": "app.example.com",
                                      "alternativeNames": ["www.example.com"]})


def variant(stack: str, full: bool) -> ProgramRun:
    return starting_point(stack, everything if full else None)


@pytest.mark.parametrize("full", [False, True], ids=["committed", "everything"])
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_fixed_physical_name_is_deleted_before_replacement(stack, full):
    """A replacement is create-before-delete by default: with a fixed name the create collides with the
    old resource (AlreadyExists), or, for upserting APIs (CloudWatch alarms and dashboards, Route 53
    records, ECR lifecycle policies), silently overwrites it and is then removed by the old one's
    delete. So every resource the program names itself is deleted first (in prod, `protect` also
    counts: a protected resource is never replaced)."""
    run = variant(stack, full)
    named = [r for r in run.resources if physical_name(r) is not None]
    types = {r.type for r in named}
    assert {RDS_INSTANCE, REPLICATION_GROUP, REPOSITORY, LOG_GROUP, "aws:cloudwatch/metricAlarm:MetricAlarm",
            "aws:cloudwatch/dashboard:Dashboard", "aws:ecr/lifecyclePolicy:LifecyclePolicy"} <= types
    if full:
        assert {"aws:route53/record:Record", "aws:appautoscaling/scheduledAction:ScheduledAction"} <= types
    unprotected = [
        f"{r.urn} ({physical_name(r)!r})" for r in named
        if not (r.delete_before_replace or (stack == "prod" and r.protect))
    ]
    assert unprotected == []
    assert_update_options(run)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_auto_named_resources_are_replaced_create_before_delete(stack):
    """The other side: a resource the provider names gets a new name on replacement, so Pulumi creates
    it first and nothing is down in between. Forcing delete-before-replace there would only add an
    outage (a target group, a load balancer, a parameter group still in use)."""
    run = variant(stack, True)
    for resource in run.resources:
        if resource.custom and physical_name(resource) is None:
            assert not resource.delete_before_replace, resource.urn


def test_the_table_cites_a_source_for_every_row():
    assert len({(t, key) for t, key, _ in REPLACEMENT_FORCING}) == len(REPLACEMENT_FORCING)
    for resource_type, key, source in REPLACEMENT_FORCING:
        assert source.startswith(TF) and key[0].islower() and ":" in resource_type


def test_every_stateful_type_exists_in_the_committed_stacks():
    """A row for a type the program no longer creates would silently check nothing."""
    for stack in ("dev", "prod"):
        run = variant(stack, False)
        assert {r.type for r in stateful(run)} == set(STATEFUL_TYPES), stack


def test_rehearsal_catches_a_replacing_change():
    """The harness itself: a change of a replacement-forcing input (storage encryption) is reported."""
    before = variant("dev", False)
    after = copy.deepcopy(before)
    instance = primary_instances(after)[0]
    after.resources[after.resources.index(instance)] = dataclasses.replace(
        instance, inputs={**instance.inputs, "storageEncrypted": False}
    )
    with pytest.raises(AssertionError, match="storageEncrypted changes from True to False"):
        assert_rehearsal(before, after)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_queue_changes_update_both_queues_in_place(stack):
    before, after = rehearse("queue-settings", stack)
    old, new = named(before, QUEUE, "tasks-queue"), named(after, QUEUE, "tasks-queue")
    assert (new.inputs["visibilityTimeoutSeconds"], new.inputs["messageRetentionSeconds"]) == (900, 86400)
    assert '"maxReceiveCount": 3' in new.inputs["redrivePolicy"] and new.urn == old.urn
    assert named(after, QUEUE, "tasks-dlq").inputs["messageRetentionSeconds"] == 604800
    before, after = rehearse("queue-encryption-kms", stack)
    for queue in ("tasks-queue", "tasks-dlq"):
        assert named(before, QUEUE, queue).inputs["sqsManagedSseEnabled"] is True
        assert named(after, QUEUE, queue).inputs["kmsMasterKeyId"] == named(after, KMS_KEY, "tasks-key").outputs["arn"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_turning_on_waf_adds_the_web_acl_and_touches_the_load_balancer_not(stack):
    before, after = rehearse("waf-on", stack)
    assert before.of_type("aws:wafv2/webAcl:WebAcl") == []
    (acl,) = after.of_type("aws:wafv2/webAcl:WebAcl")
    (association,) = after.of_type("aws:wafv2/webAclAssociation:WebAclAssociation")
    assert association.inputs["webAclArn"] == acl.outputs["arn"]
    balancer = [r for r in after.of_type("aws:lb/loadBalancer:LoadBalancer")]
    assert [r.inputs for r in balancer] == [r.inputs for r in before.of_type("aws:lb/loadBalancer:LoadBalancer")]
