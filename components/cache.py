"""Cache: an ElastiCache (Redis OSS or Valkey) replication group, private and encrypted both ways.

Own subnet group over the isolated subnets, own security group with no rule of its own: clients
are admitted one by one with `admit()` (6379 from their security group, never a CIDR). The AUTH
token is generated (or taken from a Pulumi secret), handed to ElastiCache, and stored in Secrets
Manager for the containers; it never appears in plaintext config, env vars or stack outputs.

A changed token is added next to the old one (`ROTATE`), and containers read the token pinned to
its Secrets Manager version, handed out only once the replication group accepts it: the task
definitions change, ECS rolls the services onto the new token, and the release script then makes it
the only one with `SET` (docs/secret-rotation.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from helpers.container import pinned_secret_reference
from helpers.data_links import cache_environment, cache_secrets
from helpers.database import REPLICATION_GROUP_ID_LIMIT, bounded_identifier, cache_member_cluster_ids
from stackconfig.data import CacheConfig

REDIS_PORT = 6379
AUTH_TOKEN_LENGTH = 64


@dataclass(frozen=True)
class CacheArgs:
    # Resolved for the environment (`StackConfig.resolved()`): no None left.
    settings: CacheConfig
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]
    # A Pulumi secret to use as AUTH token; None: the program generates one.
    auth_token: Optional[pulumi.Input[str]] = None
    # Days a deleted token secret can be restored.
    secret_recovery_days: int = 30


class Cache(pulumi.ComponentResource):
    primary_endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    port: int
    auth_token_secret_arn: pulumi.Output[str]
    # ECS `valueFrom` of the token's current version (what containers read).
    auth_token_reference: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    # Plain values known before deployment (alarm dimensions): the group and its node ids.
    replication_group_id: str
    member_cluster_ids: list[str]
    node_type: str

    def __init__(self, name: str, args: CacheArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:cache:Cache", name, None, opts)
        self._name = name
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings

        self.replication_group_id = bounded_identifier(
            f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}", REPLICATION_GROUP_ID_LIMIT
        )
        self.member_cluster_ids = cache_member_cluster_ids(self.replication_group_id, settings.node_count,
                                                           settings.shards)
        self.cluster_mode = settings.cluster_mode
        self.node_type = settings.node_type
        self.port = REDIS_PORT

        self.subnet_group = aws.elasticache.SubnetGroup(
            f"{name}-subnets", subnet_ids=args.subnet_ids, description=f"{name}: isolated subnets", opts=child
        )
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"{name}: Redis {REDIS_PORT} from admitted service security groups only",
            opts=child,
        )
        parameters = [aws.elasticache.ParameterGroupParameterArgs(name="maxmemory-policy",
                                                                  value=settings.maxmemory_policy)]
        if settings.cluster_mode:
            parameters.append(aws.elasticache.ParameterGroupParameterArgs(name="cluster-enabled", value="yes"))
        # Cluster mode gets a group of its own (cluster-enabled cannot change on a group in use).
        self.parameter_group = aws.elasticache.ParameterGroup(
            f"{name}-cluster-params" if settings.cluster_mode else f"{name}-params",
            family=settings.parameter_family,
            description=f"{name}: explicit eviction policy" + (", cluster mode" if settings.cluster_mode else ""),
            parameters=parameters,
            opts=child,
        )

        auth_token = args.auth_token
        if auth_token is None:
            # Letters and digits only: ElastiCache refuses some punctuation in AUTH tokens.
            auth_token = random.RandomPassword(
                f"{name}-auth-token", length=AUTH_TOKEN_LENGTH, special=False, opts=child
            ).result
        auth_token = pulumi.Output.secret(auth_token)
        self.auth_token_secret = aws.secretsmanager.Secret(
            f"{name}-auth-token",
            description=f"AUTH token of the {self.replication_group_id} replication group (REDIS_AUTH_TOKEN)",
            recovery_window_in_days=args.secret_recovery_days,
            opts=child,
        )
        token_version = aws.secretsmanager.SecretVersion(
            f"{name}-auth-token", secret_id=self.auth_token_secret.id, secret_string=auth_token, opts=child
        )

        # Cluster mode requires automatic failover (the config refuses a shard without a replica).
        failover = settings.cluster_mode or settings.replicas > 0
        shape = (f"{settings.shards} shard(s) x {1 + settings.replicas_per_shard} node(s)" if settings.cluster_mode
                 else f"{settings.node_count} node(s)")
        self.replication_group = aws.elasticache.ReplicationGroup(
            f"{name}-redis",
            replication_group_id=self.replication_group_id,
            description=f"{name}: {settings.engine} {settings.version}, {shape}",
            engine=settings.engine,
            engine_version=settings.version,
            node_type=settings.node_type,
            num_cache_clusters=None if settings.cluster_mode else settings.node_count,
            cluster_mode="enabled" if settings.cluster_mode else None,
            num_node_groups=settings.shards,
            replicas_per_node_group=settings.replicas_per_shard if settings.cluster_mode else None,
            port=REDIS_PORT,
            parameter_group_name=self.parameter_group.name,
            subnet_group_name=self.subnet_group.name,
            security_group_ids=[self.security_group.id],
            at_rest_encryption_enabled=True,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=auth_token,
            # A changed token is added next to the old one, so running tasks keep connecting until they
            # are replaced; the release script removes the old one with SET afterwards.
            auth_token_update_strategy="ROTATE",
            automatic_failover_enabled=failover,
            multi_az_enabled=settings.multi_az,
            snapshot_retention_limit=settings.snapshot_retention_days,
            # Always ours, even without snapshots: ElastiCache otherwise picks one itself, and a later
            # maintenance-window change that overlaps it is refused.
            snapshot_window=settings.snapshot_window,
            maintenance_window=settings.maintenance_window,
            auto_minor_version_upgrade=True,
            apply_immediately=settings.apply_immediately,
            # A fixed replication group id: a replacement could not create the new group next to the old
            # one (ReplicationGroupAlreadyExists), so the old one goes first (the cache starts empty). No
            # documented change replaces it (docs/changes.md).
            # Turning cluster mode on or off is a new (empty) group, not an in-place change AWS would refuse
            # half-way (docs/data-tier.md); shards and replicas per shard change in place (online resharding).
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True, replace_on_changes=["clusterMode"]),
        )

        # With cluster mode there is no primary endpoint: the configuration endpoint is where clients start.
        self.primary_endpoint = (self.replication_group.configuration_endpoint_address if settings.cluster_mode
                                 else self.replication_group.primary_endpoint_address)
        self.reader_endpoint = self.replication_group.reader_endpoint_address
        # Consumers get the ARN only once the token is stored: a task started earlier could not read it.
        self.auth_token_secret_arn = pulumi.Output.all(self.auth_token_secret.arn, token_version.id).apply(
            lambda values: values[0]
        )
        # The version holding the token, once ElastiCache accepts it too (the provider returns from an
        # update when the group is available again): a task started earlier would present a token
        # the group does not know yet.
        self.auth_token_reference = pulumi.Output.all(
            self.auth_token_secret.arn, token_version.version_id, self.replication_group.arn
        ).apply(lambda values: pinned_secret_reference(values[0], values[1]))
        self.security_group_id = self.security_group.id
        self.register_outputs({
            "primaryEndpoint": self.primary_endpoint,
            "readerEndpoint": self.reader_endpoint,
            "port": self.port,
            "authTokenSecretArn": self.auth_token_secret_arn,
            "authTokenReference": self.auth_token_reference,
            "securityGroupId": self.security_group_id,
            "replicationGroupId": self.replication_group_id,
        })

    def admit(self, client: str, security_group_id: pulumi.Input[str]) -> None:
        """Let one client (a service's security group) reach Redis; the only way in."""
        aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-from-{client}",
            security_group_id=self.security_group.id,
            referenced_security_group_id=security_group_id,
            ip_protocol="tcp",
            from_port=REDIS_PORT,
            to_port=REDIS_PORT,
            description=f"Redis from {client}",
            opts=pulumi.ResourceOptions(parent=self),
        )

    @property
    def client_environment(self) -> dict[str, pulumi.Input[str]]:
        return cache_environment(self.primary_endpoint, self.port, self.cluster_mode)

    @property
    def client_secrets(self) -> dict[str, pulumi.Input[str]]:
        """ECS `valueFrom`s: the token's current version, so a new token rolls the services."""
        return cache_secrets(self.auth_token_reference)
