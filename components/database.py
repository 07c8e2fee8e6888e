"""Database: RDS PostgreSQL, private, encrypted, with its master password in Secrets Manager.

By default the master password is created and rotated by RDS in Secrets Manager
(`manage_master_user_password`); the program never sees it, and `rotation.SecretRotationRedeploy`
redeploys the services that read it after each rotation. RDS cannot make read replicas of such
an instance, so with `managedMasterPassword: false` (required for replicas) the program generates
the password and keeps it in its own Secrets Manager secret with the same JSON keys; services read
that secret pinned to its version, so a new password rolls them (docs/secret-rotation.md). Own subnet
group, own parameter group (seed 002's tuning sized to the instance class), log groups with bounded
retention for the exported logs, and a security group with no rule of its own: clients are admitted
with `admit()`. Optional RDS Proxy (TLS only, reads the master secret through its own role) and
read replicas.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from helpers.container import pinned_secret_reference
from helpers.data_links import DATABASE_SECRET_KEYS, database_environment, json_key_reference
from helpers.database import RDS_IDENTIFIER_LIMIT, bounded_identifier, postgres_parameters
from stackconfig.data import DatabaseConfig

POSTGRES_PORT = 5432
LOG_EXPORTS = ["postgresql", "upgrade"]
PERFORMANCE_INSIGHTS_FREE_DAYS = 7
CA_CERTIFICATE = "rds-ca-rsa2048-g1"
REPLICA_SUFFIX_LENGTH = len("-replica-9")
ENHANCED_MONITORING_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
# A program-generated master password: RDS PostgreSQL takes 8-128 printable ASCII characters except
# "/", '"', "@" and space.
MASTER_PASSWORD_LENGTH = 32
MASTER_PASSWORD_SPECIALS = "".join(c for c in string.punctuation if c not in '/"@')


def service_trust(service: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    })


def declare_proxy(owner: pulumi.Resource, name: str, settings: DatabaseConfig, *, vpc_id: pulumi.Input[str],
                  subnet_ids: pulumi.Input[list[str]], database_security_group: aws.ec2.SecurityGroup, behind: str,
                  secret_policy: pulumi.Input[str], secret_arn: pulumi.Input[str], secret_description: str,
                  ) -> tuple[aws.rds.Proxy, aws.ec2.SecurityGroup, aws.rds.ProxyDefaultTargetGroup]:
    """RDS Proxy in front of an RDS instance or an Aurora cluster (the caller adds the `ProxyTarget`): its
    security group (out to the database only), the role that reads the master secret, the pool settings."""
    child = pulumi.ResourceOptions(parent=owner)
    proxy_security_group = aws.ec2.SecurityGroup(
        f"{name}-proxy-sg",
        vpc_id=vpc_id,
        description=f"{name} proxy: {POSTGRES_PORT} from admitted security groups, out to {behind} only",
        opts=child,
    )
    aws.vpc.SecurityGroupEgressRule(
        f"{name}-proxy-to-db",
        security_group_id=proxy_security_group.id,
        referenced_security_group_id=database_security_group.id,
        ip_protocol="tcp",
        from_port=POSTGRES_PORT,
        to_port=POSTGRES_PORT,
        description="Proxy to PostgreSQL",
        opts=child,
    )
    aws.vpc.SecurityGroupIngressRule(
        f"{name}-from-proxy",
        security_group_id=database_security_group.id,
        referenced_security_group_id=proxy_security_group.id,
        ip_protocol="tcp",
        from_port=POSTGRES_PORT,
        to_port=POSTGRES_PORT,
        description="PostgreSQL from the proxy",
        opts=child,
    )
    role = aws.iam.Role(f"{name}-proxy-role", assume_role_policy=service_trust("rds.amazonaws.com"), opts=child)
    secret_access = aws.iam.RolePolicy(f"{name}-proxy-secret", role=role.id, policy=secret_policy, opts=child)
    proxy = aws.rds.Proxy(
        f"{name}-proxy",
        engine_family="POSTGRESQL",
        require_tls=True,
        idle_client_timeout=settings.proxy.idle_client_timeout,
        debug_logging=False,
        role_arn=role.arn,
        vpc_subnet_ids=subnet_ids,
        vpc_security_group_ids=[proxy_security_group.id],
        auths=[aws.rds.ProxyAuthArgs(
            auth_scheme="SECRETS",
            secret_arn=secret_arn,
            iam_auth="DISABLED",
            client_password_auth_type="POSTGRES_SCRAM_SHA_256",
            description=secret_description,
        )],
        # The proxy reads the secret with this role as soon as it starts.
        opts=pulumi.ResourceOptions(parent=owner, depends_on=[secret_access]),
    )
    target_group = aws.rds.ProxyDefaultTargetGroup(
        f"{name}-proxy-targets",
        db_proxy_name=proxy.name,
        connection_pool_config=aws.rds.ProxyDefaultTargetGroupConnectionPoolConfigArgs(
            max_connections_percent=settings.proxy.max_connections_percent,
            max_idle_connections_percent=settings.proxy.max_idle_connections_percent,
            connection_borrow_timeout=120,
        ),
        opts=child,
    )
    return proxy, proxy_security_group, target_group


def admit_postgres_client(owner: pulumi.Resource, name: str, client: str, security_group_id: pulumi.Input[str],
                          database_security_group: aws.ec2.SecurityGroup,
                          proxy_security_group: Optional[aws.ec2.SecurityGroup]) -> None:
    """Let one client's security group reach PostgreSQL: the database and, if there is one, the proxy."""
    targets = [("", database_security_group.id)]
    if proxy_security_group is not None:
        targets.append(("proxy-", proxy_security_group.id))
    for prefix, target_group_id in targets:
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-{prefix}from-{client}",
            security_group_id=target_group_id,
            referenced_security_group_id=security_group_id,
            ip_protocol="tcp",
            from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT,
            description=f"PostgreSQL from {client}",
            opts=pulumi.ResourceOptions(parent=owner),
        )


@dataclass(frozen=True)
class DatabaseArgs:
    # Resolved for the environment (`StackConfig.resolved()`): no None left.
    settings: DatabaseConfig
    region: str
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]
    log_retention_days: int
    # Days a deleted program-generated master secret (managedMasterPassword: false) can be restored.
    secret_recovery_days: int = 30


def proxy_secret_policy(secret_arn: str, kms_key_arn: Optional[str], region: str) -> str:
    """The proxy's role reads exactly the master secret, decrypting it only through Secrets Manager.

    Without `kms_key_arn` (the secret is encrypted with the AWS managed key aws/secretsmanager, whose
    key policy already lets the account's principals decrypt through Secrets Manager) only the read.
    """
    statements = [{
        "Sid": "ReadMasterSecret",
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": [secret_arn],
    }]
    if kms_key_arn:
        statements.append({
            "Sid": "DecryptThroughSecretsManager",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [kms_key_arn],
            "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
        })
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


class Database(pulumi.ComponentResource):
    address: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    port: int
    database_name: str
    master_secret_arn: pulumi.Output[str]
    # True when RDS owns (and rotates) the master secret; False for the program-generated password.
    rotated_by_rds: bool
    security_group_id: pulumi.Output[str]
    # Where applications connect for writes: the proxy when there is one, else the instance.
    connection_host: pulumi.Output[str]
    proxy_endpoint: Optional[pulumi.Output[str]]
    replica_addresses: list[pulumi.Output[str]]
    # Plain values known before deployment (alarm dimensions and thresholds).
    instance_identifier: str
    instance_class: str
    allocated_storage: int
    replica_identifiers: list[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:database:Database", name, None, opts)
        self._name = name
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings

        # A fixed identifier: its log groups must exist (with retention) before RDS first writes to them.
        self.instance_identifier = bounded_identifier(
            f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}", RDS_IDENTIFIER_LIMIT - REPLICA_SUFFIX_LENGTH
        )
        self.instance_class = settings.instance_class
        self.allocated_storage = settings.allocated_storage
        self.database_name = settings.database_name
        self.port = POSTGRES_PORT
        self.replica_identifiers = [
            f"{self.instance_identifier}-replica-{index}" for index in range(1, settings.read_replicas + 1)
        ]

        self.subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets", subnet_ids=args.subnet_ids, description=f"{name}: isolated subnets", opts=child
        )
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"{name}: PostgreSQL {POSTGRES_PORT} from admitted security groups only",
            opts=child,
        )
        self.parameter_group = aws.rds.ParameterGroup(
            f"{name}-params",
            family=settings.parameter_family,
            # Fixed text: a parameter group's description forces its replacement, so naming the class here
            # would replace the group on every instanceClass change (its parameters change in place).
            description=f"{name}: seed 002 tuning, sized to the instance class",
            parameters=self._parameters(settings.instance_class, settings.slow_query_ms),
            opts=child,
        )
        if settings.replica_class != settings.instance_class:
            self.replica_parameter_group = aws.rds.ParameterGroup(
                f"{name}-replica-params",
                family=settings.parameter_family,
                description=f"{name} replicas: seed 002 tuning, sized to the replica class",
                parameters=self._parameters(settings.replica_class, settings.slow_query_ms),
                opts=child,
            )
        else:
            self.replica_parameter_group = self.parameter_group

        self.monitoring_role_arn = None
        # RDS checks the role's permissions when the instance is created: attach the policy first.
        monitoring_ready: list[pulumi.Resource] = []
        if settings.enhanced_monitoring_interval:
            monitoring_role = aws.iam.Role(
                f"{name}-monitoring", assume_role_policy=service_trust("monitoring.rds.amazonaws.com"), opts=child
            )
            monitoring_ready.append(aws.iam.RolePolicyAttachment(
                f"{name}-monitoring", role=monitoring_role.name, policy_arn=ENHANCED_MONITORING_POLICY_ARN, opts=child
            ))
            self.monitoring_role_arn = monitoring_role.arn
        self._monitoring_ready = monitoring_ready

        # A snapshot name no earlier deletion can have taken: a fixed `<id>-final` would make the
        # next deletion of a re-created stack fail (DBSnapshotAlreadyExists). The suffix is drawn
        # once per stack lifetime, so it never causes a diff.
        final_snapshot_identifier = None
        if settings.final_snapshot:
            suffix = random.RandomId(f"{name}-final-snapshot", byte_length=4, opts=child)
            final_snapshot_identifier = suffix.hex.apply(lambda hex_: f"{self.instance_identifier}-final-{hex_}")

        # RDS-managed (default), or generated here and stored in our own secret (read replicas need it).
        self.master_secret = None
        self._master_secret_version = None
        self.rotated_by_rds = settings.managed_master_password
        master_password = None
        if not settings.managed_master_password:
            master_password = self._generated_master_password(name, settings, args.secret_recovery_days)

        log_groups = self._log_groups(name, self.instance_identifier, args.log_retention_days)
        self.instance = aws.rds.Instance(
            f"{name}-postgres",
            identifier=self.instance_identifier,
            engine="postgres",
            engine_version=settings.engine_version,
            auto_minor_version_upgrade=True,
            # Only permits: the major version moves only when `engineVersion` does (RDS refuses a major
            # EngineVersion without it). Its parameter group family moves with it: the groups are auto-named,
            # so the new family's group is created before the instance (and its replicas) switch to it.
            allow_major_version_upgrade=True,
            instance_class=settings.instance_class,
            allocated_storage=settings.allocated_storage,
            max_allocated_storage=settings.max_allocated_storage,
            storage_type="gp3",
            storage_encrypted=True,
            db_name=settings.database_name,
            username=settings.master_username,
            # Only one of the two: the provider refuses manage_master_user_password (even false) next to
            # a password ("conflicts with password").
            manage_master_user_password=True if master_password is None else None,
            password=master_password,
            iam_database_authentication_enabled=True,
            db_subnet_group_name=self.subnet_group.name,
            vpc_security_group_ids=[self.security_group.id],
            parameter_group_name=self.parameter_group.name,
            publicly_accessible=False,
            ca_cert_identifier=CA_CERTIFICATE,
            multi_az=settings.multi_az,
            backup_retention_period=settings.backup_retention_days,
            backup_window=settings.backup_window,
            maintenance_window=settings.maintenance_window,
            copy_tags_to_snapshot=True,
            delete_automated_backups=not settings.final_snapshot,
            deletion_protection=settings.deletion_protection,
            skip_final_snapshot=not settings.final_snapshot,
            final_snapshot_identifier=final_snapshot_identifier,
            performance_insights_enabled=settings.performance_insights,
            performance_insights_retention_period=(
                PERFORMANCE_INSIGHTS_FREE_DAYS if settings.performance_insights else None
            ),
            monitoring_interval=settings.enhanced_monitoring_interval,
            monitoring_role_arn=self.monitoring_role_arn,
            enabled_cloudwatch_logs_exports=LOG_EXPORTS,
            apply_immediately=settings.apply_immediately,
            # A fixed identifier: a replacement could never create the new instance next to the old one
            # (DBInstanceAlreadyExists), so the old one goes first. No documented change replaces it
            # (docs/changes.md); in prod `protect` refuses a replacement outright.
            opts=pulumi.ResourceOptions(
                parent=self, protect=settings.protect, delete_before_replace=True,
                depends_on=[*log_groups, *monitoring_ready],
            ),
        )
        if self.master_secret is None:
            self.master_secret_arn = self.instance.master_user_secrets.apply(lambda secrets: secrets[0].secret_arn)
        self.address = self.instance.address
        self.endpoint = self.instance.endpoint
        self.security_group_id = self.security_group.id

        self.replica_addresses = [
            self._replica(f"{name}-replica-{index}", identifier, settings, args.log_retention_days).address
            for index, identifier in enumerate(self.replica_identifiers, start=1)
        ]

        self.proxy_endpoint = None
        if settings.proxy.enabled:
            self.proxy_endpoint = self._proxy(settings, args)
        self.connection_host = self.proxy_endpoint if self.proxy_endpoint is not None else self.address

        self.register_outputs({
            "address": self.address,
            "endpoint": self.endpoint,
            "connectionHost": self.connection_host,
            "readerAddresses": self.replica_addresses,
            "port": self.port,
            "databaseName": self.database_name,
            "masterSecretArn": self.master_secret_arn,
            "securityGroupId": self.security_group_id,
            "instanceIdentifier": self.instance_identifier,
        })

    def _generated_master_password(
        self, name: str, settings: DatabaseConfig, recovery_window_days: int
    ) -> pulumi.Output[str]:
        """A generated master password, kept in our own secret with the keys RDS's own secret has.

        Services read `username`/`password` from it like from the RDS-managed secret, and RDS Proxy
        authenticates with it (it needs exactly those two keys). The password is a Pulumi secret (in
        the state encrypted); it is not rotated automatically: replacing the RandomPassword
        (`pulumi up --replace <its URN>`) draws a new one and updates the secret and the instance,
        and the services, which read the secret pinned to its version, roll onto it.
        """
        child = pulumi.ResourceOptions(parent=self)
        password = random.RandomPassword(
            f"{name}-master-password",
            length=MASTER_PASSWORD_LENGTH,
            special=True,
            override_special=MASTER_PASSWORD_SPECIALS,
            opts=child,
        ).result
        password = pulumi.Output.secret(password)
        self.master_secret = aws.secretsmanager.Secret(
            f"{name}-master-password",
            name_prefix=f"{pulumi.get_project()}/{pulumi.get_stack()}/{name}-master-",
            description=f"Master user of RDS instance {self.instance_identifier} (generated by the program)",
            recovery_window_in_days=recovery_window_days,
            opts=child,
        )
        version = self._master_secret_version = aws.secretsmanager.SecretVersion(
            f"{name}-master-password",
            secret_id=self.master_secret.id,
            secret_string=pulumi.Output.secret(password.apply(lambda value: json.dumps({
                "username": settings.master_username,
                "password": value,
                "engine": "postgres",
                "port": POSTGRES_PORT,
                "dbname": settings.database_name,
            }))),
            opts=child,
        )
        # Consumers (task definitions, the proxy) read the secret at start: its value must exist first.
        self.master_secret_arn = pulumi.Output.all(self.master_secret.arn, version.id).apply(lambda values: values[0])
        return password

    @staticmethod
    def _parameters(instance_class: str, slow_query_ms: int) -> list[aws.rds.ParameterGroupParameterArgs]:
        return [
            aws.rds.ParameterGroupParameterArgs(name=parameter, value=value, apply_method=method)
            for parameter, value, method in postgres_parameters(instance_class, slow_query_ms)
        ]

    def _log_groups(self, prefix: str, identifier: str, retention_days: int) -> list[aws.cloudwatch.LogGroup]:
        """The groups RDS exports to (`/aws/rds/instance/<id>/<log>`), created first so retention is bounded."""
        return [
            aws.cloudwatch.LogGroup(
                f"{prefix}-{log}-logs",
                name=f"/aws/rds/instance/{identifier}/{log}",
                retention_in_days=retention_days,
                # Named after the instance: a replacement must delete the old group before creating it again.
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
            )
            for log in LOG_EXPORTS
        ]

    def _replica(
        self, resource_name: str, identifier: str, settings: DatabaseConfig, retention_days: int
    ) -> aws.rds.Instance:
        """A read replica in the primary's subnet group (AWS's default for same-region replicas)."""
        return aws.rds.Instance(
            resource_name,
            identifier=identifier,
            replicate_source_db=self.instance.identifier,
            instance_class=settings.replica_class,
            auto_minor_version_upgrade=True,
            max_allocated_storage=settings.max_allocated_storage,
            storage_type="gp3",
            storage_encrypted=True,
            iam_database_authentication_enabled=True,
            vpc_security_group_ids=[self.security_group.id],
            parameter_group_name=self.replica_parameter_group.name,
            publicly_accessible=False,
            ca_cert_identifier=CA_CERTIFICATE,
            multi_az=False,
            maintenance_window=settings.maintenance_window,
            copy_tags_to_snapshot=True,
            deletion_protection=settings.deletion_protection,
            # A replica holds no data of its own: the primary's backups and snapshot cover it.
            skip_final_snapshot=True,
            performance_insights_enabled=settings.performance_insights,
            performance_insights_retention_period=(
                PERFORMANCE_INSIGHTS_FREE_DAYS if settings.performance_insights else None
            ),
            monitoring_interval=settings.enhanced_monitoring_interval,
            monitoring_role_arn=self.monitoring_role_arn,
            enabled_cloudwatch_logs_exports=LOG_EXPORTS,
            apply_immediately=settings.apply_immediately,
            # Protected like the primary (prod): dropping a replica is a deliberate change (docs/data-tier.md).
            # Fixed identifier, like the primary.
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=settings.protect,
                delete_before_replace=True,
                depends_on=[*self._log_groups(resource_name, identifier, retention_days), *self._monitoring_ready],
            ),
        )

    def _proxy(self, settings: DatabaseConfig, args: DatabaseArgs) -> pulumi.Output[str]:
        child = pulumi.ResourceOptions(parent=self)
        if self.master_secret is None:
            policy = self.instance.master_user_secrets.apply(
                lambda secrets: proxy_secret_policy(secrets[0].secret_arn, secrets[0].kms_key_id, args.region)
            )
        else:  # our secret, encrypted with the AWS managed key
            policy = self.master_secret_arn.apply(lambda arn: proxy_secret_policy(arn, None, args.region))
        self.proxy, self.proxy_security_group, target_group = declare_proxy(
            self, self._name, settings, vpc_id=args.vpc_id, subnet_ids=args.subnet_ids,
            database_security_group=self.security_group, behind="the database", secret_policy=policy,
            secret_arn=self.master_secret_arn,
            secret_description=("RDS-managed master user secret" if self.master_secret is None
                                else "Program-generated master user secret"),
        )
        aws.rds.ProxyTarget(
            f"{self._name}-proxy-primary",
            db_proxy_name=self.proxy.name,
            target_group_name=target_group.name,
            db_instance_identifier=self.instance.identifier,
            opts=child,
        )
        return self.proxy.endpoint

    def admit(self, client: str, security_group_id: pulumi.Input[str]) -> None:
        """Let one client (a service's or a job's security group) reach PostgreSQL: the proxy if any, and the
        instances.

        Direct access stays open with a proxy: read replicas are not behind it, and migrations may
        need session features a pooled connection does not keep.
        """
        admit_postgres_client(self, self._name, client, security_group_id, self.security_group,
                              self.proxy_security_group if self.proxy_endpoint is not None else None)

    @property
    def client_environment(self) -> dict[str, pulumi.Input[str]]:
        return database_environment(
            self.connection_host, self.port, self.database_name, self.replica_addresses,
            pulumi.Output.all(*self.replica_addresses).apply(",".join) if self.replica_addresses else None,
        )

    @property
    def client_secrets(self) -> dict[str, pulumi.Input[str]]:
        """ECS `valueFrom`s of the master secret's `username` and `password` keys.

        RDS's secret is read at its current version (AWSCURRENT) when a task starts: RDS rotates it
        outside any `pulumi up`, and the rotation redeploy starts fresh tasks. The program's own
        secret is pinned to the version holding the password, handed out once the instance has
        that password (the provider returns from the update when the instance is available again):
        a new password changes the task definitions, so ECS replaces the running tasks.
        """
        if self.rotated_by_rds:
            return {variable: self.master_secret_arn.apply(lambda arn, k=key: json_key_reference(arn, k))
                    for variable, key in DATABASE_SECRET_KEYS.items()}
        pinned = pulumi.Output.all(self.master_secret_arn, self._master_secret_version.version_id, self.instance.arn)
        return {variable: pinned.apply(lambda values, k=key: pinned_secret_reference(values[0], values[1], k))
                for variable, key in DATABASE_SECRET_KEYS.items()}
