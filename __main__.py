"""webstack: read the stack config, compose the components, export what users need."""

import pulumi
import pulumi_aws as aws

from components.autoscaling import Autoscaling, AutoscalingArgs
from components.cluster import Cluster, ClusterArgs
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.monitoring import MonitoredService, Monitoring, MonitoringArgs
from components.network import Network, NetworkArgs
from components.service import Service, ServiceArgs
from helpers.names import ecr_registry, image_reference, request_count_resource_label
from stackconfig import load_stack_config

config = load_stack_config()
project, stack = pulumi.get_project(), pulumi.get_stack()

provider = aws.Provider(
    "aws",
    region=config.region,
    default_tags=aws.ProviderDefaultTagsArgs(
        tags={"Project": project, "Environment": config.environment, "Owner": config.owner}
    ),
)
with_provider = pulumi.ResourceOptions(providers=[provider])
account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(provider=provider)).account_id
registry = account_id.apply(lambda account: ecr_registry(account, config.region))

network = Network("network", NetworkArgs(
    cidr=config.network.cidr,
    availability_zones=config.network.availability_zones,
    nat_gateways=config.network.nat_gateways,
    subnet_mask=config.network.subnet_mask,
    isolated_subnets=config.network.isolated_subnets,
    flow_logs=config.network.flow_logs,
    log_retention_days=config.logs.retention_days,
), opts=with_provider)

cluster = Cluster("app", ClusterArgs(container_insights=config.cluster.container_insights), opts=with_provider)

load_balancer = LoadBalancer("web", LoadBalancerArgs(
    vpc_id=network.vpc_id,
    public_subnet_ids=network.public_subnet_ids,
    idle_timeout=config.load_balancer.idle_timeout,
    deletion_protection=(
        config.is_production if config.load_balancer.deletion_protection is None
        else config.load_balancer.deletion_protection
    ),
    certificate_arn=config.load_balancer.certificate_arn,
    ssl_policy=config.load_balancer.ssl_policy,
), opts=with_provider)

services = {}
for name, settings in config.services.items():
    image = registry.apply(
        lambda host, s=settings: image_reference(host, s.image.repository, s.image.tag, s.image.digest)
    )
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
        service_depends_on=[cluster.capacity_providers],
    ), opts=with_provider)
    Autoscaling(f"{name}-scaling", AutoscalingArgs(
        settings=settings.scaling,
        cluster_name=cluster.cluster_name,
        service_name=service.service_name,
        request_count_label=pulumi.Output.all(load_balancer.arn_suffix, service.target_group_arn_suffix).apply(
            lambda suffixes: request_count_resource_label(*suffixes)
        ),
    ), opts=with_provider)
    services[name] = service

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
        )
        for name, service in services.items()
    },
), opts=with_provider)

pulumi.export("url", load_balancer.url)
pulumi.export("albDnsName", load_balancer.dns_name)
pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("serviceNames", {name: service.service_name for name, service in services.items()})
pulumi.export("vpcId", network.vpc_id)
pulumi.export("alertTopicArn", monitoring.topic_arn)
pulumi.export("dashboardName", monitoring.dashboard_name)
