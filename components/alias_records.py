"""AliasRecords: the custom domain's names pointing at the load balancer, or at CloudFront in front of it (Route 53
alias records)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from stackconfig.edge import DomainConfig


@dataclass(frozen=True)
class AliasRecordsArgs:
    settings: DomainConfig
    zone_id: pulumi.Input[str]
    target_dns_name: pulumi.Input[str]
    target_zone_id: pulumi.Input[str]
    # AAAA records as well: only when the target answers on IPv6 (a dualstack load balancer).
    ipv6: bool = False
    # Route 53 refuses evaluate_target_health for a CloudFront distribution target.
    evaluate_target_health: bool = True


class AliasRecords(pulumi.ComponentResource):
    urls: list[str]

    def __init__(self, name: str, args: AliasRecordsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:alias_records:AliasRecords", name, None, opts)
        # A record is its (zone, name, type): created first, a replacement would be written over the old one
        # (UPSERT) and then deleted with it. Renaming the domain is no replacement: the name is in the
        # resource name, so the new name's records are new resources and the old name's are deleted.
        record_options = pulumi.ResourceOptions(parent=self, delete_before_replace=True)
        settings = args.settings
        record_types = ["A", "AAAA"] if args.ipv6 else ["A"]

        self.records = []
        # Named after the DNS name (see the validation records): a removed name takes only its own records.
        for domain_name in settings.names:
            for record_type in record_types:
                self.records.append(aws.route53.Record(
                    f"{name}-{domain_name}-{record_type.lower()}",
                    zone_id=args.zone_id,
                    name=domain_name,
                    type=record_type,
                    aliases=[aws.route53.RecordAliasArgs(
                        name=args.target_dns_name,
                        zone_id=args.target_zone_id,
                        evaluate_target_health=args.evaluate_target_health,
                    )],
                    allow_overwrite=settings.replace_existing_records,
                    opts=record_options,
                ))

        self.urls = [f"https://{domain_name}" for domain_name in settings.names]
        self.register_outputs({"urls": self.urls})
