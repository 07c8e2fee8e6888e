"""DomainCertificate: a DNS-validated ACM certificate for the HTTPS listener of a custom domain.

Apart from the alias records (`alias_records.py`), because the listener needs the certificate before
the load balancer is complete and the alias records need the load balancer's DNS name:

    certificate = DomainCertificate(...)                    # zone lookup, certificate, CNAMEs, validation
    load_balancer = LoadBalancer(..., certificate_arn=certificate.certificate_arn)
    AliasRecords(..., zone_id=certificate.zone_id, target=load_balancer)

`certificate_arn` comes from the `CertificateValidation`, so the listener is created only once ACM has
issued the certificate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from stackconfig.edge import DomainConfig

VALIDATION_RECORD_TTL = 300


@dataclass(frozen=True)
class DomainCertificateArgs:
    settings: DomainConfig
    # Names on the certificate beyond the domain's: the load balancer's origin name behind a static frontend.
    extra_names: Sequence[str] = ()


class DomainCertificate(pulumi.ComponentResource):
    zone_id: pulumi.Output[str]
    certificate_arn: pulumi.Output[str]

    def __init__(self, name: str, args: DomainCertificateArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:domain:DomainCertificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings

        if settings.zone_id is not None:
            self.zone_id = pulumi.Output.from_input(settings.zone_id)
        else:
            self.zone_id = aws.route53.get_zone_output(
                name=settings.zone_name, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=self)
            ).zone_id

        self.certificate = aws.acm.Certificate(
            f"{name}-cert",
            domain_name=settings.record_name,
            subject_alternative_names=[*settings.alternative_names, *args.extra_names] or None,
            validation_method="DNS",
            key_algorithm="RSA_2048",
            opts=child,
        )
        # One CNAME per name on the certificate, picked by name from ACM's (Output) list: the set of
        # records depends on the config only, never on what the Output holds. Each record is named after
        # its DNS name, not its position: removing a name from the middle of the list must delete that
        # name's record only, never shift the others onto each other's records (Route 53 `name` forces
        # replacement, and the replacement's delete would remove the record a neighbour just upserted).
        self.validation_records = []
        for domain_name in [*settings.names, *args.extra_names]:
            option = self.certificate.domain_validation_options.apply(
                lambda options, wanted=domain_name: next(o for o in options if o.domain_name == wanted)
            )
            self.validation_records.append(aws.route53.Record(
                f"{name}-validation-{domain_name}",
                zone_id=self.zone_id,
                name=option.resource_record_name,
                # ACM's DNS validation record is always a CNAME; a plain value keeps it known in a preview.
                type="CNAME",
                records=[option.resource_record_value],
                ttl=VALIDATION_RECORD_TTL,
                # ACM reuses one validation record across certificates for the same name; a second
                # certificate (a replacement, another stack) must be able to take it over.
                allow_overwrite=True,
                # Same name and value for every certificate of this name: created first, a replacement would
                # take the record over and the old one's delete would then remove it.
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
            ))
        self.validation = aws.acm.CertificateValidation(
            f"{name}-validation",
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=[record.fqdn for record in self.validation_records],
            opts=child,
        )

        self.certificate_arn = self.validation.certificate_arn
        self.register_outputs({"zoneId": self.zone_id, "certificateArn": self.certificate_arn})
