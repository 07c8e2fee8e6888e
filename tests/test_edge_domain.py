"""Custom domain: ACM certificate validated through Route 53, the HTTPS listener on it, alias records to the ALB."""

from __future__ import annotations

import pulumi
import pytest

from components.alias_records import AliasRecords, AliasRecordsArgs
from components.domain import DomainCertificate, DomainCertificateArgs
from preflight.capture import ProgramRun, run_in_mocks
from preflight.fake_cloud import FakeCloud
from stackconfig import validate_stack_config
from stackconfig.edge import DomainConfig
from tests.conftest import run_stack, stack_config

CERTIFICATE_TYPE = "aws:acm/certificate:Certificate"
VALIDATION_TYPE = "aws:acm/certificateValidation:CertificateValidation"
RECORD_TYPE = "aws:route53/record:Record"


def records(run: ProgramRun, record_type: str) -> list:
    return [r for r in run.of_type(RECORD_TYPE) if r.inputs["type"] == record_type]


def zone_id_of(name: str) -> str:
    return FakeCloud().call(pulumi.runtime.MockCallArgs("aws:route53/getZone:getZone", {"name": name}, None))["zoneId"]


def test_prod_certificate_is_dns_validated_in_the_zone(prod_run):
    certificate = prod_run.one(CERTIFICATE_TYPE)
    assert certificate.inputs["domainName"] == "app.example.com"
    assert certificate.inputs["validationMethod"] == "DNS"
    option = certificate.outputs["domainValidationOptions"][0]

    [cname] = records(prod_run, "CNAME")
    assert cname.inputs["zoneId"] == zone_id_of("example.com")
    assert cname.inputs["name"] == option["resourceRecordName"]
    assert cname.inputs["records"] == [option["resourceRecordValue"]]
    assert cname.inputs["allowOverwrite"] is True
    assert certificate.urn in cname.dependencies

    validation = prod_run.one(VALIDATION_TYPE)
    assert validation.inputs["certificateArn"] == certificate.outputs["arn"]
    assert validation.inputs["validationRecordFqdns"] == [option["resourceRecordName"].rstrip(".")]
    assert cname.urn in validation.dependencies


def test_prod_https_listener_waits_for_the_validated_certificate(prod_run):
    validation = prod_run.one(VALIDATION_TYPE)
    https = next(l for l in prod_run.of_type("aws:lb/listener:Listener") if l.inputs["port"] == 443)
    assert https.inputs["certificateArn"] == prod_run.one(CERTIFICATE_TYPE).outputs["arn"]
    assert validation.urn in https.dependencies


def test_prod_alias_points_at_the_load_balancer(prod_run):
    alb = prod_run.one("aws:lb/loadBalancer:LoadBalancer")
    [alias] = records(prod_run, "A")
    assert alias.inputs["name"] == "app.example.com"
    assert alias.inputs["zoneId"] == zone_id_of("example.com")
    assert alias.inputs["aliases"] == [{
        "name": alb.outputs["dnsName"], "zoneId": alb.outputs["zoneId"], "evaluateTargetHealth": True,
    }]
    # The load balancer is IPv4 only: no AAAA record that would answer with nothing.
    assert alb.inputs["ipAddressType"] == "ipv4"
    assert records(prod_run, "AAAA") == []
    assert prod_run.outputs["url"] == "https://app.example.com"


def test_dev_has_no_domain_resources(dev_run):
    assert dev_run.of_type(CERTIFICATE_TYPE) == [] and dev_run.of_type(RECORD_TYPE) == []


def test_alternative_names_each_get_their_own_validation_record_and_alias():
    def add_www(config):
        config["webstack:domain"]["alternativeNames"] = ["www.example.com"]

    run = run_stack("prod", add_www)
    certificate = run.one(CERTIFICATE_TYPE)
    assert certificate.inputs["subjectAlternativeNames"] == ["www.example.com"]
    options = {o["domainName"]: o for o in certificate.outputs["domainValidationOptions"]}
    cnames = {r.inputs["name"]: r.inputs["records"] for r in records(run, "CNAME")}
    assert cnames == {options[n]["resourceRecordName"]: [options[n]["resourceRecordValue"]]
                      for n in ("app.example.com", "www.example.com")}
    assert sorted(run.one(VALIDATION_TYPE).inputs["validationRecordFqdns"]) == sorted(
        options[n]["resourceRecordName"].rstrip(".") for n in options
    )
    assert sorted(r.inputs["name"] for r in records(run, "A")) == ["app.example.com", "www.example.com"]


def test_removing_a_name_leaves_the_other_names_records_alone():
    """Records are keyed by DNS name: dropping `www` must not turn `www`'s resources into `api`'s.

    Keyed by position, `api` would move from index 2 to 1: its records would be replaced by the ones
    that held `www` (Route 53 `name` forces replacement) and the old index-2 records deleted after the
    upsert, deleting `api`'s live alias and validation record.
    """
    def names(*alternatives):
        def change(config):
            config["webstack:domain"]["alternativeNames"] = list(alternatives)
        return change

    def urns_by_record(run):
        return {(r.inputs["type"], r.inputs["name"].rstrip(".")): r.urn for r in run.of_type(RECORD_TYPE)}

    before = urns_by_record(run_stack("prod", names("www.example.com", "api.example.com")))
    after = urns_by_record(run_stack("prod", names("api.example.com")))
    assert len(before) == 6 and len(after) == 4
    # Every record that remains keeps its resource (same URN), so Pulumi neither replaces nor deletes it.
    assert after.items() <= before.items()
    assert {name for _, name in after if not name.startswith("_")} == {"app.example.com", "api.example.com"}


def test_components_alone_with_a_zone_id_and_ipv6_target():
    settings = DomainConfig.model_validate(
        {"zoneId": "Z0123456789ABCDEFGHIJ", "recordName": "shop.example.org", "replaceExistingRecords": True}
    )

    def build():
        certificate = DomainCertificate("site", DomainCertificateArgs(settings=settings))
        AliasRecords("site", AliasRecordsArgs(
            settings=settings, zone_id=certificate.zone_id, target_dns_name="lb-1.us-east-1.elb.amazonaws.com",
            target_zone_id="Z35SXDOTRQ7X7K", ipv6=True,
        ))

    run = run_in_mocks(build)
    assert {r.inputs["zoneId"] for r in run.of_type(RECORD_TYPE)} == {"Z0123456789ABCDEFGHIJ"}
    aliases = records(run, "A") + records(run, "AAAA")
    assert [r.inputs["type"] for r in aliases] == ["A", "AAAA"]
    for alias in aliases:
        assert alias.inputs["allowOverwrite"] is True  # DNS cutover takes over the old record
        assert alias.inputs["aliases"][0]["name"] == "lb-1.us-east-1.elb.amazonaws.com"
    component = run.one("webstack:domain:DomainCertificate")
    assert all(r.parent == component.urn for r in run.of_type(RECORD_TYPE) if r.inputs["type"] == "CNAME")


def test_preview_declares_the_same_records_before_acm_answers():
    run = run_stack("prod", preview=True)
    assert len(records(run, "CNAME")) == 1 and len(records(run, "A")) == 1


def domain_errors(domain: dict, certificate_arn: str | None = None) -> str:
    config, _ = stack_config("prod")
    raw = {key.split(":", 1)[1]: value for key, value in config.items() if key.startswith("webstack:")}
    raw["region"] = config["aws:region"]
    raw["domain"] = domain
    if certificate_arn:
        raw["loadBalancer"] = {**raw.get("loadBalancer", {}), "certificateArn": certificate_arn}
    with pytest.raises(pulumi.RunError) as error:
        validate_stack_config(raw)
    return str(error.value)


@pytest.mark.parametrize("domain,message", [
    ({"recordName": "app.example.com"}, "webstack:domain: set exactly one of domain.zoneName"),
    ({"zoneName": "example.com", "zoneId": "Z123", "recordName": "app.example.com"},
     'webstack:domain.zoneId = "Z123": set exactly one of domain.zoneName or domain.zoneId'),
    ({"zoneName": "example.com", "recordName": "app.other.org"},
     'webstack:domain.recordName = "app.other.org": not in domain.zoneName example.com'),
    ({"zoneName": "example.com", "recordName": "App.Example.com"}, "is not a lower-case DNS name"),
    ({"zoneName": "example.com", "recordName": "app.example.com", "alternativeNames": ["*.example.com"]},
     "wildcard names are not supported"),
    ({"zoneName": "example.com", "recordName": "app.example.com", "alternativeNames": ["app.example.com"]},
     'webstack:domain.alternativeNames[0] = "app.example.com": repeats domain.recordName'),
    # A valid DNS name, but ACM refuses a Common Name over 64 octets.
    ({"zoneName": "example.com", "recordName": "a" * 53 + ".example.com"}, "at most 64"),
])
def test_domain_config_is_checked(domain, message):
    assert message in domain_errors(domain)


def test_domain_and_an_existing_certificate_are_exclusive():
    message = domain_errors(
        {"zoneName": "example.com", "recordName": "app.example.com"},
        certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000",
    )
    assert "webstack:loadBalancer.certificateArn = " in message and "not together with webstack:domain" in message
