"""LoadBalancer: the internet-facing ALB, its security group and listeners.

With a certificate, HTTPS:443 terminates TLS (TLS 1.3 policy) and HTTP:80 only redirects to it;
without one (a dev stack), HTTP:80 serves directly. Either way the default action is a fixed 404:
traffic reaches a service only through an explicit listener rule.

Behind CloudFront (`cloudfront_only`, a static frontend) only HTTPS:443 is open, to CloudFront's
origin-facing managed prefix list only, and every listener rule also requires the secret origin header
CloudFront adds (`origin_header`): anything else, e.g. a request from inside AWS that bypasses the edge,
gets the default 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from helpers.static_site import CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST, ORIGIN_HEADER_NAME
from stackconfig.load_balancer import LoadBalancerConfig

NOT_FOUND = aws.lb.ListenerDefaultActionArgs(
    type="fixed-response",
    fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
        content_type="text/plain", message_body="Not Found", status_code="404"
    ),
)
FORBIDDEN = aws.lb.ListenerDefaultActionArgs(
    type="fixed-response",
    fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
        content_type="text/plain", message_body="Forbidden", status_code="403"
    ),
)
# The origin header's value: letters and digits only (no `*` or `?`, which a listener rule reads as wildcards).
ORIGIN_SECRET_LENGTH = 40
INTERNET_IPV4 = "0.0.0.0/0"
INTERNET_IPV6 = "::/0"


@dataclass(frozen=True)
class LoadBalancerArgs:
    settings: LoadBalancerConfig
    vpc_id: pulumi.Input[str]
    public_subnet_ids: pulumi.Input[list[str]]
    # The HTTPS certificate: the stack's own (`DomainCertificate`) or `settings.certificate_arn`; none: HTTP only.
    certificate_arn: Optional[pulumi.Input[str]] = None
    # Access logs to this bucket (`AccessLogs.bucket_name`, which resolves once its policy lets ELB write).
    access_logs_bucket: Optional[pulumi.Input[str]] = None
    access_logs_prefix: Optional[str] = None
    # A static frontend's CloudFront distribution is the only way in (needs `certificate_arn`).
    cloudfront_only: bool = False


class LoadBalancer(pulumi.ComponentResource):
    # IPv4 only: DNS gets A records and no AAAA (a "dualstack" load balancer would need both).
    ip_address_type = "ipv4"
    arn: pulumi.Output[str]
    arn_suffix: pulumi.Output[str]
    dns_name: pulumi.Output[str]
    zone_id: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    listener_arn: pulumi.Output[str]
    url: pulumi.Output[str]
    # Behind CloudFront: the header (name, secret value) every listener rule requires; else None.
    origin_header: Optional[tuple[str, pulumi.Output[str]]]

    def __init__(self, name: str, args: LoadBalancerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:load_balancer:LoadBalancer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        https = args.certificate_arn is not None
        if args.cloudfront_only and not https:
            raise ValueError("a load balancer behind CloudFront needs a certificate (the origin is HTTPS only)")

        # The description predates `cloudfront_only` and stays as it is: changing it replaces the group.
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description="Load balancer: HTTP/HTTPS from the internet, egress only to services",
            opts=child,
        )
        self.origin_header = None
        if args.cloudfront_only:
            self._cloudfront_ingress(name)
        public_ports = [] if args.cloudfront_only else [80, 443] if https else [80]
        for port in public_ports:
            for label, cidr in (("ipv4", INTERNET_IPV4), ("ipv6", INTERNET_IPV6)):
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-in-{port}-{label}",
                    security_group_id=self.security_group.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr if label == "ipv4" else None,
                    cidr_ipv6=cidr if label == "ipv6" else None,
                    description=f"{'HTTPS' if port == 443 else 'HTTP'} from the internet",
                    opts=child,
                )

        self.load_balancer = aws.lb.LoadBalancer(
            f"{name}-alb",
            load_balancer_type="application",
            internal=False,
            ip_address_type=self.ip_address_type,
            subnets=args.public_subnet_ids,
            security_groups=[self.security_group.id],
            drop_invalid_header_fields=True,
            idle_timeout=args.settings.idle_timeout,
            enable_deletion_protection=args.settings.deletion_protection,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(
                bucket=args.access_logs_bucket, prefix=args.access_logs_prefix, enabled=True
            ) if args.access_logs_bucket is not None else None,
            opts=child,
        )

        if https:
            self.listener = aws.lb.Listener(
                f"{name}-https",
                load_balancer_arn=self.load_balancer.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=args.settings.ssl_policy,
                certificate_arn=args.certificate_arn,
                default_actions=[FORBIDDEN if args.cloudfront_only else NOT_FOUND],
                opts=child,
            )
        if https and not args.cloudfront_only:
            self.http_listener = aws.lb.Listener(
                f"{name}-http-redirect",
                load_balancer_arn=self.load_balancer.arn,
                port=80,
                protocol="HTTP",
                default_actions=[aws.lb.ListenerDefaultActionArgs(
                    type="redirect",
                    redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                        protocol="HTTPS", port="443", status_code="HTTP_301"
                    ),
                )],
                opts=child,
            )
        if not https:
            self.listener = aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=self.load_balancer.arn,
                port=80,
                protocol="HTTP",
                default_actions=[NOT_FOUND],
                opts=child,
            )

        self.arn = self.load_balancer.arn
        self.arn_suffix = self.load_balancer.arn_suffix
        self.dns_name = self.load_balancer.dns_name
        self.zone_id = self.load_balancer.zone_id
        self.security_group_id = self.security_group.id
        self.listener_arn = self.listener.arn
        self.url = self.dns_name.apply(lambda dns: f"{'https' if https else 'http'}://{dns}")
        self.register_outputs({
            "arn": self.arn,
            "arnSuffix": self.arn_suffix,
            "dnsName": self.dns_name,
            "zoneId": self.zone_id,
            "securityGroupId": self.security_group_id,
            "listenerArn": self.listener_arn,
            "url": self.url,
        })

    def _cloudfront_ingress(self, name: str) -> None:
        """HTTPS from CloudFront's origin-facing addresses only, and the secret header CloudFront adds.

        One rule referencing the prefix list counts as its maximum entries (about 55 for IPv4) against the
        security group's rules quota (60 inbound by default), docs/edge.md."""
        prefix_list = aws.ec2.get_managed_prefix_list_output(
            name=CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-in-443-cloudfront",
            security_group_id=self.security_group.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            prefix_list_id=prefix_list.id,
            description="HTTPS from CloudFront's origin-facing servers only",
            opts=pulumi.ResourceOptions(parent=self),
        )
        secret = random.RandomPassword(
            f"{name}-origin-secret", length=ORIGIN_SECRET_LENGTH, special=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.origin_header = (ORIGIN_HEADER_NAME, secret.result)
