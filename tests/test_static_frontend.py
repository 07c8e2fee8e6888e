"""The static frontend (lean): S3 + CloudFront in front of the load balancer, which then admits CloudFront only.

Under mocks on the committed lean stack: one distribution with the private bucket as its default origin through
an origin access control and the load balancer as an HTTPS custom origin for /api/*, HTTPS on every behaviour,
the SPA fallback function on the default behaviour only (no distribution-wide error responses), AWS's managed
policies on /api/*, the us-east-1 certificate with TLSv1.2_2021; the load balancer's security group admitting
CloudFront's origin-facing prefix list only and every listener rule requiring CloudFront's secret header.
The function's JavaScript runs under node.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from helpers.static_site import (
    ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID,
    CACHING_DISABLED_POLICY_ID,
    CACHING_OPTIMIZED_POLICY_ID,
    CLOUDFRONT_HOSTED_ZONE_ID,
    CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST,
    ORIGIN_HEADER_NAME,
    SPA_FALLBACK_CODE,
)
from preflight import capture
from preflight.capture import ProgramRun
from preflight.fake_cloud import FakeCloud
from stackconfig.edge import FrontendConfig
from tests.conftest import committed, run_stack
from tests.test_edge_storage import assert_private_encrypted_versioned_tls_only, bucket_named

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
RECORD = "aws:route53/record:Record"


def distribution(run: ProgramRun):
    return run.by_name("frontend-cdn")


def origins(run: ProgramRun) -> dict[str, dict]:
    return {origin["originId"]: origin for origin in distribution(run).inputs["origins"]}


def origin_secret(run: ProgramRun) -> str:
    return run.by_name("web-origin-secret").outputs["result"]


def test_default_origin_is_the_private_bucket_through_origin_access_control(lean_run):
    bucket = bucket_named(lean_run, "frontend-bucket")
    access_control = lean_run.one("aws:cloudfront/originAccessControl:OriginAccessControl")
    assert {key: access_control.inputs[key] for key in (
        "originAccessControlOriginType", "signingBehavior", "signingProtocol")} == {
        "originAccessControlOriginType": "s3", "signingBehavior": "always", "signingProtocol": "sigv4"}
    s3 = origins(lean_run)["frontend-bucket"]
    assert s3["domainName"] == bucket.outputs["bucketRegionalDomainName"]
    assert s3["originAccessControlId"] == access_control.id
    assert "customOriginConfig" not in s3 and "s3OriginConfig" not in s3
    assert distribution(lean_run).inputs["defaultCacheBehavior"]["targetOriginId"] == "frontend-bucket"


def test_bucket_is_private_and_readable_by_this_distribution_only(lean_run):
    bucket = bucket_named(lean_run, "frontend-bucket")
    policy = assert_private_encrypted_versioned_tls_only(lean_run, bucket)
    arn, source = bucket.outputs["arn"], {"StringEquals": {"AWS:SourceArn": distribution(lean_run).outputs["arn"]}}
    assert policy["Statement"][1:] == [
        {"Sid": "CloudFrontRead", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
         "Action": "s3:GetObject", "Resource": f"{arn}/*", "Condition": source},
        # Listing lets S3 answer a missing file with 404 instead of 403.
        {"Sid": "CloudFrontList", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
         "Action": "s3:ListBucket", "Resource": arn, "Condition": source},
    ]
    # Lean is a prod environment: the bucket survives `pulumi destroy` and is never emptied by it.
    assert bucket.protect is True and bucket.inputs["forceDestroy"] is False
    assert lean_run.outputs["frontendBucket"] == bucket.outputs["bucket"]


def test_load_balancer_is_an_https_custom_origin_for_the_api_paths(lean_run):
    alb = origins(lean_run)["load-balancer"]
    origin_name = f"origin.{committed(lean_run, 'domain')['recordName']}"
    assert alb["domainName"] == origin_name
    assert alb["customOriginConfig"] == {"httpPort": 80, "httpsPort": 443, "originProtocolPolicy": "https-only",
                                         "originSslProtocols": ["TLSv1.2"]}
    assert alb["customHeaders"] == [{"name": ORIGIN_HEADER_NAME, "value": origin_secret(lean_run)}]
    behaviours = distribution(lean_run).inputs["orderedCacheBehaviors"]
    assert [b["pathPattern"] for b in behaviours] == committed(lean_run, "frontend")["apiPaths"] == ["/api/*"]
    [api] = behaviours
    assert api["targetOriginId"] == "load-balancer"
    assert api["cachePolicyId"] == CACHING_DISABLED_POLICY_ID == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert api["originRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID == \
        "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    assert set(api["allowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}
    assert "functionAssociations" not in api


def test_every_behaviour_is_https_and_the_spa_fallback_runs_on_the_bucket_only(lean_run):
    inputs = distribution(lean_run).inputs
    default = inputs["defaultCacheBehavior"]
    assert default["viewerProtocolPolicy"] == "redirect-to-https"
    assert all(b["viewerProtocolPolicy"] == "https-only" for b in inputs["orderedCacheBehaviors"])
    assert default["cachePolicyId"] == CACHING_OPTIMIZED_POLICY_ID
    function = lean_run.one("aws:cloudfront/function:Function")
    assert function.inputs["runtime"] == "cloudfront-js-2.0"
    assert function.inputs["publish"] is True
    assert function.inputs["code"] == SPA_FALLBACK_CODE
    assert default["functionAssociations"] == [{"eventType": "viewer-request", "functionArn": function.outputs["arn"]}]
    # Not distribution-wide error responses: they would turn the API's 403/404 into 200 index.html.
    assert "customErrorResponses" not in inputs


def test_viewers_reach_the_domain_on_the_us_east_1_certificate_with_modern_tls(lean_run):
    inputs = distribution(lean_run).inputs
    domain = committed(lean_run, "domain")
    validation = lean_run.one("aws:acm/certificateValidation:CertificateValidation")
    assert inputs["aliases"] == [domain["recordName"]]
    assert inputs["viewerCertificate"] == {"acmCertificateArn": validation.outputs["certificateArn"],
                                           "sslSupportMethod": "sni-only", "minimumProtocolVersion": "TLSv1.2_2021"}
    assert validation.outputs["certificateArn"].startswith("arn:aws:acm:us-east-1:")
    # One certificate in us-east-1 names the viewers' host and the load balancer's origin name.
    certificate = lean_run.one("aws:acm/certificate:Certificate")
    assert certificate.inputs["domainName"] == domain["recordName"]
    assert certificate.inputs["subjectAlternativeNames"] == [f"origin.{domain['recordName']}"]
    assert inputs["priceClass"] == "PriceClass_100" and inputs["isIpv6Enabled"] is True


def test_domain_points_at_cloudfront_and_the_origin_name_at_the_load_balancer(lean_run):
    records = {(r.inputs["name"], r.inputs["type"]): r.inputs for r in lean_run.of_type(RECORD) if "aliases" in r.inputs}
    host = committed(lean_run, "domain")["recordName"]
    cdn = distribution(lean_run).outputs
    for record_type in ("A", "AAAA"):
        assert records[(host, record_type)]["aliases"] == [{
            "name": cdn["domainName"], "zoneId": CLOUDFRONT_HOSTED_ZONE_ID, "evaluateTargetHealth": False}]
    alb = lean_run.one("aws:lb/loadBalancer:LoadBalancer").outputs
    assert records[(f"origin.{host}", "A")]["aliases"] == [{
        "name": alb["dnsName"], "zoneId": alb["zoneId"], "evaluateTargetHealth": True}]
    assert (f"origin.{host}", "AAAA") not in records
    assert lean_run.outputs["url"] == f"https://{host}"
    assert lean_run.outputs["frontendDomain"] == cdn["domainName"]
    assert lean_run.outputs["frontendDistributionId"] == distribution(lean_run).id


def test_load_balancer_admits_cloudfront_only(lean_run):
    security_group = lean_run.by_name("web-sg")
    ingress = [r for r in lean_run.of_type(INGRESS) if r.inputs["securityGroupId"] == security_group.id]
    [rule] = ingress
    assert rule.name == "web-in-443-cloudfront"
    assert {key: rule.inputs[key] for key in ("ipProtocol", "fromPort", "toPort")} == {
        "ipProtocol": "tcp", "fromPort": 443, "toPort": 443}
    assert "cidrIpv4" not in rule.inputs and "cidrIpv6" not in rule.inputs
    # The id the prefix-list lookup by name answered (the mock's, as AWS's is per region).
    assert rule.inputs["prefixListId"].startswith("pl-")
    listeners = lean_run.of_type("aws:lb/listener:Listener")
    assert [(l.inputs["port"], l.inputs["protocol"]) for l in listeners] == [(443, "HTTPS")]
    assert listeners[0].inputs["defaultActions"] == [{"type": "fixed-response", "fixedResponse": {
        "contentType": "text/plain", "messageBody": "Forbidden", "statusCode": "403"}}]


def test_prefix_list_is_looked_up_by_its_name(monkeypatch):
    calls = []

    class Recording(FakeCloud):
        def call(self, args):
            calls.append((args.token, dict(args.args)))
            return super().call(args)

    monkeypatch.setattr(capture, "FakeCloud", Recording)
    run_stack("lean")
    assert ("aws:ec2/getManagedPrefixList:getManagedPrefixList", {"name": CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST}) \
        in calls


def test_outside_us_east_1_cloudfront_uses_the_given_us_east_1_certificate():
    certificate = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"

    def in_ireland(config):
        config["aws:region"] = "eu-west-1"
        config["webstack:network"]["availabilityZones"] = ["eu-west-1a", "eu-west-1b"]
        config["webstack:frontend"]["certificateArn"] = certificate

    run = run_stack("lean", in_ireland)
    assert distribution(run).inputs["viewerCertificate"]["acmCertificateArn"] == certificate
    # The stack's own certificate (eu-west-1) serves the load balancer's origin name.
    listener = run.one("aws:lb/listener:Listener")
    assert listener.inputs["certificateArn"].startswith("arn:aws:acm:eu-west-1:")


def test_every_listener_rule_requires_the_origin_header(lean_run):
    secret = lean_run.by_name("web-origin-secret")
    assert secret.inputs["length"] == 40 and secret.inputs["special"] is False
    rules = lean_run.of_type("aws:lb/listenerRule:ListenerRule")
    assert rules
    for rule in rules:
        assert {"httpHeader": {"httpHeaderName": ORIGIN_HEADER_NAME, "values": [origin_secret(lean_run)]}} \
            in rule.inputs["conditions"]


def test_stacks_without_a_frontend_keep_an_internet_facing_load_balancer(prod_run):
    assert prod_run.of_type("aws:cloudfront/function:Function") == []
    assert not any("httpHeader" in c for r in prod_run.of_type("aws:lb/listenerRule:ListenerRule")
                   for c in r.inputs["conditions"])
    assert "frontendBucket" not in prod_run.outputs


def test_spa_fallback_off_serves_files_only():
    def no_fallback(config):
        config["webstack:frontend"]["spaFallback"] = False

    run = run_stack("lean", no_fallback)
    assert run.of_type("aws:cloudfront/function:Function") == []
    assert "functionAssociations" not in distribution(run).inputs["defaultCacheBehavior"]
    assert distribution(run).inputs["defaultRootObject"] == "index.html"


NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@pytest.mark.parametrize("uri,served", [
    ("/", "/index.html"),
    ("/about", "/index.html"),
    ("/users/42", "/index.html"),
    ("/settings/", "/index.html"),
    ("/assets/app.js", "/assets/app.js"),
    ("/favicon.ico", "/favicon.ico"),
    ("/index.html", "/index.html"),
])
def test_spa_fallback_function_rewrites_extension_less_paths(uri, served):
    event = {"version": "1.0", "context": {"eventType": "viewer-request"},
             "request": {"method": "GET", "uri": uri, "querystring": {}, "headers": {}, "cookies": {}}}
    script = SPA_FALLBACK_CODE + f"\nconsole.log(JSON.stringify(handler({json.dumps(event)})));\n"
    result = subprocess.run([NODE, "-e", script], capture_output=True, text=True, check=True)
    request = json.loads(result.stdout)
    assert request["uri"] == served
    assert request["querystring"] == {} and request["method"] == "GET"


@pytest.mark.parametrize("value,message", [
    (["/*"], "/* is every path: the default behaviour serves the bucket"),
    (["api/*"], "a CloudFront path pattern starts with '/'"),
    (["/api/<x>"], "a CloudFront path pattern starts with '/'"),
])
def test_api_paths_are_cloudfront_path_patterns(value, message):
    with pytest.raises(ValueError, match=message):
        FrontendConfig(kind="static", api_paths=value)
    assert FrontendConfig(kind="static", api_paths=["/api/*", "/admin/*"]).api_paths == ["/api/*", "/admin/*"]


def test_frontend_certificate_must_be_in_us_east_1():
    arn = "arn:aws:acm:{}:123456789012:certificate/00000000-0000-0000-0000-000000000000"
    with pytest.raises(ValueError, match="the certificate is in eu-west-1; CloudFront uses ACM certificates from "
                                         "us-east-1 only"):
        FrontendConfig(kind="static", certificate_arn=arn.format("eu-west-1"))
    assert FrontendConfig(kind="static", certificate_arn=arn.format("us-east-1")).certificate_arn


def test_service_routes_under_api_paths():
    frontend = FrontendConfig(kind="static", api_paths=["/api/*", "/health"])
    assert frontend.serves_api_path("/api/*") and frontend.serves_api_path("/api/v1/*")
    assert frontend.serves_api_path("/health")
    assert not frontend.serves_api_path("/*") and not frontend.serves_api_path("/admin/*")
    assert not frontend.serves_api_path("/healthz")


def test_first_preview_declares_the_same_frontend_before_anything_exists():
    """On a first preview every id, ARN and the origin secret are unknown: the same resources are declared."""
    preview = run_stack("lean", preview=True)
    names = {(r.type, r.name) for r in preview.resources}
    for expected in [(DISTRIBUTION, "frontend-cdn"), ("aws:cloudfront/function:Function", "frontend-spa-fallback"),
                     (INGRESS, "web-in-443-cloudfront"), ("random:index/randomPassword:RandomPassword", "web-origin-secret"),
                     (RECORD, "frontend-origin-origin.lean.example.com-a"), (RECORD, "domain-lean.example.com-aaaa")]:
        assert expected in names
