"""Aurora PostgreSQL: a cluster (writer + `readers`), Serverless v2 (`db.serverless`, may pause at 0 ACU) or provisioned.

Chosen by `database.engine: aurora-postgresql` in place of `components/database.py`, with the same
client interface (`client_environment`, `client_secrets`, `admit`, `master_secret_arn`,
`rotated_by_rds`): services get the cluster (writer) endpoint, or the proxy's, as DATABASE_HOST and
the reader endpoint as DATABASE_READ_HOST. The master password is managed by RDS in Secrets Manager
(Aurora replicas share the cluster's storage, so readers do not need a program-generated password),
rotated by RDS and followed by `rotation.SecretRotationRedeploy` like the RDS instance's. Storage is
encrypted with the AWS managed key (aws/rds), as the RDS instance's is; backups, deletion protection,
the final snapshot and `protect` follow the resolved settings. Readers are spread over the subnet
group's AZs by RDS; each reader gets promotion tier 1, so it pauses and resumes with the writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.database import (
    CA_CERTIFICATE,
    ENHANCED_MONITORING_POLICY_ARN,
    PERFORMANCE_INSIGHTS_FREE_DAYS,
    POSTGRES_PORT,
    admit_postgres_client,
    declare_proxy,
    proxy_secret_policy,
    service_trust,
)
from helpers.data_links import DATABASE_SECRET_KEYS, database_environment, json_key_reference
from helpers.database import RDS_IDENTIFIER_LIMIT, aurora_max_connections, bounded_identifier
from stackconfig.data import DatabaseConfig

AURORA_LOG_EXPORTS = ["postgresql"]
READER_SUFFIX_LENGTH = len("-reader-15")


@dataclass(frozen=True)
class AuroraArgs:
    # Resolved for the environment (`StackConfig.resolved()`): no None left, `aurora` set.
    settings: DatabaseConfig
    region: str
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]
    availability_zones: list[str]
    log_retention_days: int


def slow_query_parameters(slow_query_ms: int) -> list[aws.rds.ClusterParameterGroupParameterArgs]:
    """TLS forced and slow statements logged; memory settings stay Aurora's (they follow the ACUs)."""
    return [
        aws.rds.ClusterParameterGroupParameterArgs(name="rds.force_ssl", value="1", apply_method="immediate"),
        aws.rds.ClusterParameterGroupParameterArgs(name="log_min_duration_statement", value=str(slow_query_ms),
                                                   apply_method="immediate"),
    ]


class Aurora(pulumi.ComponentResource):
    port: int
    database_name: str
    master_secret_arn: pulumi.Output[str]
    rotated_by_rds: bool = True
    security_group_id: pulumi.Output[str]
    connection_host: pulumi.Output[str]
    reader_endpoint: Optional[pulumi.Output[str]]
    proxy_endpoint: Optional[pulumi.Output[str]]
    cluster_identifier: str
    instance_identifiers: list[str]
    # Plain values for alarms: Aurora's default max_connections, and Serverless v2's maximum ACUs (else None).
    max_connections: int
    max_acu: Optional[float]

    def __init__(self, name: str, args: AuroraArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:database:Aurora", name, None, opts)
        self._name = name
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings
        aurora = settings.aurora
        self.port = POSTGRES_PORT
        self.database_name = settings.database_name
        self.max_connections = aurora_max_connections(aurora.instance_class, aurora.max_capacity)
        self.max_acu = aurora.max_capacity if aurora.serverless else None
        self.cluster_identifier = bounded_identifier(
            f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}", RDS_IDENTIFIER_LIMIT - READER_SUFFIX_LENGTH
        )
        self.instance_identifiers = [f"{self.cluster_identifier}-writer"] + [
            f"{self.cluster_identifier}-reader-{index}" for index in range(1, aurora.readers + 1)
        ]

        self.subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets", subnet_ids=args.subnet_ids, description=f"{name}: isolated subnets", opts=child
        )
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id,
            description=f"{name}: PostgreSQL {POSTGRES_PORT} from admitted security groups only", opts=child,
        )
        self.security_group_id = self.security_group.id
        self.parameter_group = aws.rds.ClusterParameterGroup(
            f"{name}-cluster-params", family=aurora.parameter_family,
            description=f"{name}: TLS forced, slow statements logged",
            parameters=slow_query_parameters(settings.slow_query_ms), opts=child,
        )

        self.monitoring_role_arn = None
        monitoring_ready: list[pulumi.Resource] = []
        if settings.enhanced_monitoring_interval:
            role = aws.iam.Role(f"{name}-monitoring",
                                assume_role_policy=service_trust("monitoring.rds.amazonaws.com"), opts=child)
            monitoring_ready.append(aws.iam.RolePolicyAttachment(
                f"{name}-monitoring", role=role.name, policy_arn=ENHANCED_MONITORING_POLICY_ARN, opts=child))
            self.monitoring_role_arn = role.arn

        final_snapshot_identifier = None
        if settings.final_snapshot:
            suffix = random.RandomId(f"{name}-final-snapshot", byte_length=4, opts=child)
            final_snapshot_identifier = suffix.hex.apply(lambda hex_: f"{self.cluster_identifier}-final-{hex_}")

        # RDS writes to /aws/rds/cluster/<id>/<log>: created first so its retention is bounded.
        log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-{log}-logs", name=f"/aws/rds/cluster/{self.cluster_identifier}/{log}",
                retention_in_days=args.log_retention_days,
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
            )
            for log in AURORA_LOG_EXPORTS
        ]
        self.cluster = aws.rds.Cluster(
            f"{name}-cluster",
            cluster_identifier=self.cluster_identifier,
            engine="aurora-postgresql",
            engine_mode="provisioned",
            engine_version=aurora.engine_version,
            allow_major_version_upgrade=True,
            database_name=settings.database_name,
            master_username=settings.master_username,
            manage_master_user_password=True,
            iam_database_authentication_enabled=True,
            db_subnet_group_name=self.subnet_group.name,
            vpc_security_group_ids=[self.security_group.id],
            db_cluster_parameter_group_name=self.parameter_group.name,
            storage_encrypted=True,
            storage_type="" if aurora.storage_type == "aurora" else aurora.storage_type,
            serverlessv2_scaling_configuration=aws.rds.ClusterServerlessv2ScalingConfigurationArgs(
                min_capacity=aurora.min_capacity, max_capacity=aurora.max_capacity,
                seconds_until_auto_pause=aurora.auto_pause_seconds,
            ) if aurora.serverless else None,
            backup_retention_period=settings.backup_retention_days,
            preferred_backup_window=settings.backup_window,
            preferred_maintenance_window=settings.maintenance_window,
            copy_tags_to_snapshot=True,
            delete_automated_backups=not settings.final_snapshot,
            deletion_protection=settings.deletion_protection,
            skip_final_snapshot=not settings.final_snapshot,
            final_snapshot_identifier=final_snapshot_identifier,
            enabled_cloudwatch_logs_exports=AURORA_LOG_EXPORTS,
            apply_immediately=settings.apply_immediately,
            # A fixed identifier: the old cluster must go before a replacement (DBClusterAlreadyExistsFault).
            opts=pulumi.ResourceOptions(parent=self, protect=settings.protect, delete_before_replace=True,
                                        depends_on=log_groups),
        )
        self.master_secret_arn = self.cluster.master_user_secrets.apply(lambda secrets: secrets[0].secret_arn)
        self.instances = [
            aws.rds.ClusterInstance(
                f"{name}-{'writer' if index == 0 else f'reader-{index}'}",
                identifier=identifier,
                cluster_identifier=self.cluster.id,
                engine="aurora-postgresql",
                engine_version=self.cluster.engine_version,
                instance_class=aurora.instance_class,
                db_subnet_group_name=self.subnet_group.name,
                # Readers in the AZs after the writer's, round robin.
                availability_zone=args.availability_zones[index % len(args.availability_zones)],
                promotion_tier=0 if index == 0 else 1,
                publicly_accessible=False,
                ca_cert_identifier=CA_CERTIFICATE,
                auto_minor_version_upgrade=False,
                copy_tags_to_snapshot=True,
                performance_insights_enabled=settings.performance_insights,
                performance_insights_retention_period=(
                    PERFORMANCE_INSIGHTS_FREE_DAYS if settings.performance_insights else None
                ),
                monitoring_interval=settings.enhanced_monitoring_interval,
                monitoring_role_arn=self.monitoring_role_arn,
                apply_immediately=settings.apply_immediately,
                opts=pulumi.ResourceOptions(parent=self, protect=settings.protect, delete_before_replace=True,
                                            depends_on=monitoring_ready),
            )
            for index, identifier in enumerate(self.instance_identifiers)
        ]
        self.reader_endpoint = self.cluster.reader_endpoint if aurora.readers else None

        self.proxy_endpoint = self._proxy(settings, args) if settings.proxy.enabled else None
        self.connection_host = self.proxy_endpoint if self.proxy_endpoint is not None else self.cluster.endpoint
        self.register_outputs({
            "endpoint": self.cluster.endpoint,
            "readerEndpoint": self.cluster.reader_endpoint,
            "connectionHost": self.connection_host,
            "port": self.port,
            "databaseName": self.database_name,
            "masterSecretArn": self.master_secret_arn,
            "securityGroupId": self.security_group_id,
            "clusterIdentifier": self.cluster_identifier,
        })

    def _proxy(self, settings: DatabaseConfig, args: AuroraArgs) -> pulumi.Output[str]:
        policy = self.cluster.master_user_secrets.apply(
            lambda secrets: proxy_secret_policy(secrets[0].secret_arn, secrets[0].kms_key_id, args.region)
        )
        self.proxy, self.proxy_security_group, target_group = declare_proxy(
            self, self._name, settings, vpc_id=args.vpc_id, subnet_ids=args.subnet_ids,
            database_security_group=self.security_group, behind="the cluster", secret_policy=policy,
            secret_arn=self.master_secret_arn, secret_description="RDS-managed master user secret",
        )
        aws.rds.ProxyTarget(
            f"{self._name}-proxy-cluster", db_proxy_name=self.proxy.name, target_group_name=target_group.name,
            db_cluster_identifier=self.cluster.id,
            # A cluster target needs an available instance.
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.instances[:1]),
        )
        return self.proxy.endpoint

    def admit(self, client: str, security_group_id: pulumi.Input[str]) -> None:
        """Let one client reach PostgreSQL: the proxy if any, and the cluster (readers are not behind the proxy)."""
        admit_postgres_client(self, self._name, client, security_group_id, self.security_group,
                              self.proxy_security_group if self.proxy_endpoint is not None else None)

    @property
    def client_environment(self) -> dict[str, pulumi.Input[str]]:
        readers = [self.reader_endpoint] if self.reader_endpoint is not None else []
        return database_environment(self.connection_host, self.port, self.database_name, readers,
                                    self.reader_endpoint)

    @property
    def client_secrets(self) -> dict[str, pulumi.Input[str]]:
        """The RDS-managed master secret's keys, read at AWSCURRENT (RDS rotates it; the redeploy follows)."""
        return {variable: self.master_secret_arn.apply(lambda arn, k=key: json_key_reference(arn, k))
                for variable, key in DATABASE_SECRET_KEYS.items()}
