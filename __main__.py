"""webstack: read the stack config, compose the components, export what users need."""

import pulumi
import pulumi_aws as aws

from components.access_logs import AccessLogs, AccessLogsArgs, ServerAccessLogSource
from components.alias_records import AliasRecords, AliasRecordsArgs
from components.app_secrets import AppSecrets, AppSecretsArgs
from components.autoscaling import Autoscaling, AutoscalingArgs, ConsumedQueue, ShiftedTargetGroups
from components.cache import Cache, CacheArgs
from components.cluster import Cluster, ClusterArgs
from components.aurora import Aurora, AuroraArgs
from components.database import Database, DatabaseArgs
from components.domain import DomainCertificate, DomainCertificateArgs
from components.job import ScheduledJob, ScheduledJobArgs
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.monitoring import (
    MonitoredAuroraInstance, MonitoredCache, MonitoredDatabase, MonitoredQueue, MonitoredService, Monitoring,
    MonitoringArgs,
)
from components.network import Network, NetworkArgs
from components.registry import ImageRepository, ImageRepositoryArgs
from components.rotation import RedeployedService, SecretRotationRedeploy, SecretRotationRedeployArgs
from components.queue import WorkQueue, WorkQueueArgs
from components.service import Service, ServiceArgs
from components.static_site import StaticSite, StaticSiteArgs
from components.service_connect import ServiceConnectNamespace, ServiceConnectNamespaceArgs
from components.storage import MediaStorage, MediaStorageArgs
from components.waf import WebAcl, WebAclArgs
from helpers.commands import run_task_command
from helpers.dashboard import WebAclPanels
from helpers.static_site import CLOUDFRONT_HOSTED_ZONE_ID
from helpers.names import (
    ecr_registry, has_registry_host, image_reference, queue_url_variable, request_count_resource_label,
    stack_repository_name, web_acl_metric_name,
)
from stackconfig import load_stack_config

config = load_stack_config()
project, stack = pulumi.get_project(), pulumi.get_stack()

default_tags = {"Project": project, "Environment": config.environment, "Owner": config.owner}
provider = aws.Provider("aws", region=config.region, default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags))
with_provider = pulumi.ResourceOptions(providers=[provider])
account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(provider=provider)).account_id
registry = account_id.apply(lambda account: ecr_registry(account, config.region))

network = Network("network", NetworkArgs(
    settings=config.network,
    log_retention_days=config.logs.retention_days,
    region=config.region,
    account_id=account_id,
    instance_tags=default_tags,
), opts=with_provider)

cluster = Cluster("app", ClusterArgs(settings=config.cluster), opts=with_provider)

# Edge: a certificate of our own when the stack has a domain, the media bucket, ALB access logs and the media
# bucket's server access logs (prod by default).
# Behind a static frontend the load balancer's certificate also names the origin CloudFront calls it on.
origin_name = config.frontend.origin_name(config.domain) if config.frontend is not None else None
certificate = DomainCertificate("domain", DomainCertificateArgs(
    settings=config.domain, extra_names=[origin_name] if origin_name else [],
), opts=with_provider) if config.domain is not None else None
storage = MediaStorage("media", MediaStorageArgs(
    settings=config.storage,
    region=config.region,
), opts=with_provider) if config.storage is not None else None
access_logs = AccessLogs("alb-logs", AccessLogsArgs(
    settings=config.access_logs,
    region=config.region,
    account_id=account_id,
    # The media bucket's server access logs (prod) go to the same bucket, under their own prefix.
    server_access_log_sources=[ServerAccessLogSource(
        "media", storage.bucket_name, storage.bucket_arn, config.storage.access_logs_prefix,
    )] if storage is not None and config.storage.access_logs else [],
), opts=with_provider) if config.access_logs.enabled else None

load_balancer = LoadBalancer("web", LoadBalancerArgs(
    settings=config.load_balancer,
    vpc_id=network.vpc_id,
    public_subnet_ids=network.public_subnet_ids,
    certificate_arn=certificate.certificate_arn if certificate is not None else config.load_balancer.certificate_arn,
    access_logs_bucket=access_logs.bucket_name if access_logs is not None else None,
    access_logs_prefix=access_logs.prefix if access_logs is not None else None,
    cloudfront_only=config.frontend is not None,
), opts=with_provider)
# WAF: on the load balancer (REGIONAL), or on a static frontend's distribution (CLOUDFRONT, in us-east-1),
# since behind CloudFront the load balancer only sees CloudFront's addresses.
web_acl = WebAcl("waf", WebAclArgs(
    settings=config.load_balancer.waf,
    metric_name=web_acl_metric_name(project, stack),
    scope=config.web_acl_scope,
    log_retention_days=config.logs.retention_days,
    load_balancer_arn=load_balancer.arn if config.web_acl_scope == "REGIONAL" else None,
), opts=with_provider) if config.load_balancer.waf.enabled else None
# A static frontend: the domain's names point at CloudFront, which reaches the load balancer on origin_name.
frontend = None
if config.frontend is not None:
    AliasRecords("frontend-origin", AliasRecordsArgs(
        settings=config.domain.model_copy(update={"record_name": origin_name, "alternative_names": []}),
        zone_id=certificate.zone_id,
        target_dns_name=load_balancer.dns_name,
        target_zone_id=load_balancer.zone_id,
    ), opts=with_provider)
    frontend = StaticSite("frontend", StaticSiteArgs(
        settings=config.frontend,
        aliases=config.domain.names,
        certificate_arn=config.frontend.certificate_arn or certificate.certificate_arn,
        origin_domain_name=origin_name,
        origin_header_name=load_balancer.origin_header[0],
        origin_header_value=load_balancer.origin_header[1],
        force_destroy=config.frontend.force_destroy,
        protect=config.frontend.protect,
        web_acl_arn=web_acl.web_acl_arn if web_acl is not None else None,
    ), opts=with_provider)
if config.domain is not None:
    domain_records = AliasRecords("domain", AliasRecordsArgs(
        settings=config.domain,
        zone_id=certificate.zone_id,
        target_dns_name=frontend.domain_name if frontend is not None else load_balancer.dns_name,
        target_zone_id=CLOUDFRONT_HOSTED_ZONE_ID if frontend is not None else load_balancer.zone_id,
        ipv6=frontend is not None or load_balancer.ip_address_type == "dualstack",
        evaluate_target_health=frontend is None,
    ), opts=with_provider)

# One ECR repository per image built for this stack (a bare repository name, not an external registry),
# named `<stack>/<repository>` so stacks sharing an account never share one; prod's outlive a rename.
repositories = {
    repository: ImageRepository(repository, ImageRepositoryArgs(
        settings=config.registry,
        repository_name=stack_repository_name(stack, repository),
        # A repository whose images `pulumi destroy` must not delete (prod) also outlives a rename or replacement.
        retain_on_delete=not config.registry.force_delete,
    ), opts=with_provider)
    for repository in sorted({
        image.repository for image in [*(s.image for s in config.services.values()),
                                       *(j.image for j in config.jobs.values())]
        if not has_registry_host(image.repository)
    })
}

# Data tier: each store only when configured; services that `use` it get its endpoints and secrets.
data_stores: dict[str, Cache | Database | Aurora] = {}
if config.cache is not None:
    token_entry = config.cache.auth_token_from_config
    data_stores["cache"] = Cache("cache", CacheArgs(
        settings=config.cache,
        vpc_id=network.vpc_id,
        subnet_ids=network.isolated_subnet_ids,
        auth_token=pulumi.Output.secret(config.app_secrets[token_entry].get_secret_value()) if token_entry else None,
        secret_recovery_days=config.secret_recovery_days,
    ), opts=with_provider)
if config.database is not None and config.database.is_aurora:
    data_stores["database"] = Aurora("database", AuroraArgs(
        settings=config.database,
        region=config.region,
        vpc_id=network.vpc_id,
        subnet_ids=network.isolated_subnet_ids,
        availability_zones=config.network.availability_zones,
        log_retention_days=config.logs.retention_days,
    ), opts=with_provider)
elif config.database is not None:
    data_stores["database"] = Database("database", DatabaseArgs(
        settings=config.database,
        region=config.region,
        vpc_id=network.vpc_id,
        subnet_ids=network.isolated_subnet_ids,
        log_retention_days=config.logs.retention_days,
        secret_recovery_days=config.secret_recovery_days,
    ), opts=with_provider)
referenced_app_secrets = sorted({
    ref.from_config for s in [*config.services.values(), *config.jobs.values()] for ref in s.secrets.values()
    if ref.from_config
})
app_secrets = AppSecrets("app-secrets", AppSecretsArgs(
    values={entry: pulumi.Output.secret(config.app_secrets[entry].get_secret_value()) for entry in referenced_app_secrets},
    recovery_window_days=config.secret_recovery_days,
), opts=with_provider) if referenced_app_secrets else None


def data_links(settings) -> tuple[dict, dict]:
    """A service's plain variables (store endpoints) and ECS secrets (Secrets Manager references)."""
    environment, secrets = {}, {}
    for store in settings.uses:
        environment.update(data_stores[store].client_environment)
        secrets.update(data_stores[store].client_secrets)
    for variable, ref in settings.secrets.items():
        secrets[variable] = ref.secrets_manager_arn or app_secrets.references[ref.from_config]
    return environment, secrets


# Work queues: producers get the URL and send-only rights, the consumer receive/delete (and scales on it).
queues = {
    name: WorkQueue(name, WorkQueueArgs(settings=settings, account_id=account_id), opts=with_provider)
    for name, settings in config.queues.items()
}


def queue_links(settings) -> tuple[dict, list]:
    """A service's queue URL variables and the task role statements of the queues it produces to or consumes."""
    environment, statements = {}, []
    for queue in settings.produces:
        environment[queue_url_variable(queue)] = queues[queue].queue_url
        statements.append(queues[queue].producer_statements())
    if settings.consumes is not None:
        environment[queue_url_variable(settings.consumes)] = queues[settings.consumes].queue_url
        statements.append(queues[settings.consumes].consumer_statements())
    return environment, statements


def task_role_statements(settings, uses_storage: bool, queue_statements: list):
    """What the application's own role may do: its bucket access and its queues; None when nothing."""
    parts = [*([storage.access_statements(settings.storage)] if uses_storage else []), *queue_statements]
    if not parts:
        return None
    return pulumi.Output.all(*parts).apply(lambda lists: [statement for part in lists for statement in part])


def image_of(image_settings) -> pulumi.Output[str]:
    """The image reference of a service or job: from the stack's repository, or an external registry."""
    if image_settings.repository in repositories:
        return repositories[image_settings.repository].image(image_settings.tag, image_settings.digest)
    return registry.apply(
        lambda host: image_reference(host, image_settings.repository, image_settings.tag, image_settings.digest)
    )


# Service-to-service calls by name: one Cloud Map namespace; each callee is declared before its callers,
# which wait for it, so their tasks start once its name is in the namespace.
service_connect = ServiceConnectNamespace("service-connect", ServiceConnectNamespaceArgs(
    stack_label=f"{project}-{stack}",
), opts=with_provider) if config.uses_service_connect else None

services = {}
for name in config.call_order():
    settings = config.services[name]
    image = image_of(settings.image)
    uses_storage = storage is not None and settings.storage is not None
    data_environment, data_secrets = data_links(settings)
    queue_environment, queue_statements = queue_links(settings)
    service = Service(name, ServiceArgs(
        settings=settings,
        image=image,
        region=config.region,
        log_retention_days=config.logs.retention_days,
        cluster_arn=cluster.cluster_arn,
        vpc_id=network.vpc_id,
        subnet_ids=network.private_subnet_ids,
        load_balancer_security_group_id=load_balancer.security_group_id,
        listener_arn=load_balancer.listener_arn,
        account_id=account_id,
        service_depends_on=[cluster.capacity_providers, *(services[callee].service for callee in settings.calls)],
        linked_environment={**(storage.environment() if uses_storage else {}), **data_environment,
                            **queue_environment},
        secrets=data_secrets,
        task_role_statements=task_role_statements(settings, uses_storage, queue_statements),
        service_connect_namespace_arn=service_connect.namespace_arn
        if settings.connect is not None or settings.calls else None,
        required_header=load_balancer.origin_header,
    ), opts=with_provider)
    Autoscaling(f"{name}-scaling", AutoscalingArgs(
        settings=settings.scaling,
        cluster_name=cluster.cluster_name,
        service_name=service.service_name,
        request_count_label=pulumi.Output.all(load_balancer.arn_suffix, service.target_group_arn_suffix).apply(
            lambda suffixes: request_count_resource_label(*suffixes)
        ) if service.target_group_arn_suffix is not None else None,
        shifted_target_groups=ShiftedTargetGroups(
            load_balancer.arn_suffix, (service.target_group_arn_suffix, service.alternate_target_group_arn_suffix),
        ) if service.alternate_target_group_arn_suffix is not None else None,
        queue=ConsumedQueue(settings.consumes, queues[settings.consumes].queue_name)
        if settings.consumes is not None else None,
    ), opts=with_provider)
    for store in settings.uses:
        data_stores[store].admit(name, service.security_group_id)
    services[name] = service
services = {name: services[name] for name in config.services}  # config order: the dashboard's
for name, settings in config.services.items():
    for callee in settings.calls:
        services[callee].admit_caller(name, services[name].security_group_id)

# Alarms and dashboard panels for every RDS instance (replicas inherit the primary's storage size).
monitored_databases: dict[str, MonitoredDatabase] = {}
if isinstance(data_stores.get("database"), Database):
    primary = data_stores["database"]
    monitored_databases["primary"] = MonitoredDatabase(
        primary.instance_identifier, primary.instance_class, primary.allocated_storage
    )
    for index, identifier in enumerate(primary.replica_identifiers, start=1):
        monitored_databases[f"replica-{index}"] = MonitoredDatabase(
            identifier, config.database.replica_class, primary.allocated_storage
        )

monitored_aurora: dict[str, MonitoredAuroraInstance] = {}
if isinstance(data_stores.get("database"), Aurora):
    writer_cluster = data_stores["database"]
    for index, identifier in enumerate(writer_cluster.instance_identifiers):
        monitored_aurora["writer" if index == 0 else f"reader-{index}"] = MonitoredAuroraInstance(
            identifier, writer_cluster.max_connections, writer_cluster.max_acu, reader=index > 0,
        )

monitoring = Monitoring("monitoring", MonitoringArgs(
    settings=config.monitoring,
    region=config.region,
    account_id=account_id,
    cluster_name=cluster.cluster_name,
    load_balancer_arn_suffix=load_balancer.arn_suffix,
    services={
        name: MonitoredService(
            service_name=service.service_name,
            target_group_arn_suffix=service.target_group_arn_suffix,
            min_tasks=config.services[name].scaling.min,
            alternate_target_group_arn_suffix=service.alternate_target_group_arn_suffix,
        )
        for name, service in services.items()
    },
    databases=monitored_databases,
    aurora_instances=monitored_aurora,
    cache=MonitoredCache(
        data_stores["cache"].member_cluster_ids, node_count=len(data_stores["cache"].member_cluster_ids)
    ) if "cache" in data_stores else None,
    queues={
        name: MonitoredQueue(queue.queue_name, queue.dead_letter_queue_name, consumer=next(
            service for service, settings in config.services.items() if settings.consumes == name
        ))
        for name, queue in queues.items()
    },
    web_acl=WebAclPanels(web_acl.metric_name, config.region if config.web_acl_scope == "REGIONAL" else None)
    if web_acl is not None else None,
), opts=with_provider)

# Scheduled jobs: EventBridge Scheduler runs each as a Fargate task; a failed run alerts the topic.
jobs = {}
for name, settings in config.jobs.items():
    data_environment, data_secrets = data_links(settings)
    job = ScheduledJob(name, ScheduledJobArgs(
        settings=settings,
        image=image_of(settings.image),
        region=config.region,
        account_id=account_id,
        log_retention_days=config.logs.retention_days,
        cluster_arn=cluster.cluster_arn,
        cluster_name=cluster.cluster_name,
        vpc_id=network.vpc_id,
        subnet_ids=network.private_subnet_ids,
        alert_topic_arn=monitoring.topic_arn,
        linked_environment=data_environment,
        secrets=data_secrets,
    ), opts=with_provider)
    for store in settings.uses:
        data_stores[store].admit(f"job-{name}", job.security_group_id)
    jobs[name] = job

# RDS rotates its managed master secret on its own schedule: redeploy the services that read it.
database_readers = sorted(name for name, settings in config.services.items() if "database" in settings.uses)
if "database" in data_stores and data_stores["database"].rotated_by_rds and database_readers:
    SecretRotationRedeploy("database-rotation", SecretRotationRedeployArgs(
        secret_arn=data_stores["database"].master_secret_arn,
        cluster_arn=cluster.cluster_arn,
        services={name: RedeployedService(services[name].service_name, services[name].service_arn)
                  for name in database_readers},
        region=config.region,
        account_id=account_id,
        log_retention_days=config.logs.retention_days,
        alert_topic_arn=monitoring.topic_arn,
    ), opts=with_provider)

pulumi.export("url", domain_records.urls[0] if config.domain is not None else load_balancer.url)
pulumi.export("albDnsName", load_balancer.dns_name)
pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("serviceNames", {name: service.service_name for name, service in services.items()})
pulumi.export("taskDefinitionArns", {name: service.task_definition.arn for name, service in services.items()})
pulumi.export("vpcId", network.vpc_id)
pulumi.export("repositoryUrls", {name: repository.repository_url for name, repository in repositories.items()})
pulumi.export("migrationCommands", {
    name: pulumi.Output.all(cluster.cluster_name, network.private_subnet_ids, service.security_group_id).apply(
        lambda values, family=service.migration_family: run_task_command(values[0], family, values[1], [values[2]])
    )
    for name, service in services.items() if service.migration_family is not None
})
# What the release runs and waits for before services roll (docs/releases.md): this update's migration task
# definition revision, in the service's subnets and security group; logs as the service's container writes them.
pulumi.export("migrationTasks", {
    name: {
        "cluster": cluster.cluster_name,
        "taskDefinition": service.migration_task_definition.arn,
        "subnets": network.private_subnet_ids,
        "securityGroups": [service.security_group_id],
        "container": name,
        "logGroup": service.log_group_name,
        "logStreamPrefix": name,
    }
    for name, service in services.items() if service.migration_family is not None
})
if storage is not None:
    pulumi.export("mediaBucket", storage.bucket_name)
    if storage.cdn_domain_name is not None:
        pulumi.export("mediaCdnDomain", storage.cdn_domain_name)
if config.domain is not None:
    pulumi.export("domainUrls", domain_records.urls)
if frontend is not None:
    # What the release syncs to and invalidates (docs/releases.md).
    pulumi.export("frontendBucket", frontend.bucket_name)
    pulumi.export("frontendDistributionId", frontend.distribution_id)
    pulumi.export("frontendDomain", frontend.domain_name)
if "database" in data_stores:
    database = data_stores["database"]
    pulumi.export("databaseHost", database.connection_host)
    pulumi.export("databaseName", database.database_name)
    # Not the password: the ARN of the secret holding it, RDS's or ours (docs/data-tier.md: reading it).
    pulumi.export("databaseSecretArn", database.master_secret_arn)
if "cache" in data_stores:
    pulumi.export("cacheEndpoint", data_stores["cache"].primary_endpoint)
    pulumi.export("cacheAuthTokenSecretArn", data_stores["cache"].auth_token_secret_arn)
    # The release completes an AUTH token change on it (docs/releases.md).
    pulumi.export("cacheReplicationGroupId", data_stores["cache"].replication_group_id)
if service_connect is not None:
    pulumi.export("serviceConnectNamespace", service_connect.namespace_name)
    # What a caller puts in its URL (docs/workloads.md); only services of this stack with `calls` resolve it.
    pulumi.export("serviceConnectEndpoints", {
        name: f"http://{settings.connect.name}:{settings.connect.port}"
        for name, settings in config.services.items() if settings.connect is not None
    })
if web_acl is not None:
    pulumi.export("webAclArn", web_acl.web_acl_arn)
    pulumi.export("wafLogGroup", web_acl.log_group_name)
pulumi.export("alertTopicArn", monitoring.topic_arn)
pulumi.export("dashboardName", monitoring.dashboard_name)
