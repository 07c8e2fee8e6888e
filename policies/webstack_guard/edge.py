"""CloudFront distributions: HTTPS on every behaviour, modern TLS on custom certificates and to custom origins,
S3 read through OAC."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import DISTRIBUTION, MANDATORY, as_list, fix, plain, present

HTTPS_VIEWER_POLICIES = ("redirect-to-https", "https-only")
# CloudFront's security policies for SNI custom certificates that allow nothing below TLS 1.2 with
# forward-secret ciphers (TLSv1.2_2019 and older still offer CBC/SHA-1 suites).
MODERN_TLS_VERSIONS = ("TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025")


def _behaviours(props) -> list[tuple[str, dict]]:
    found = []
    default = plain(props.get("defaultCacheBehavior")) or {}
    found.append(("defaultCacheBehavior", default))
    for index, behaviour in enumerate(as_list(plain(props.get("orderedCacheBehaviors")))):
        found.append((f"orderedCacheBehaviors[{index}] ({behaviour.get('pathPattern')})", behaviour))
    return found


def _https_only(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DISTRIBUTION:
        return
    for where, behaviour in _behaviours(args.props):
        policy = behaviour.get("viewerProtocolPolicy")
        if policy not in HTTPS_VIEWER_POLICIES:
            report(fix(f"{where} lets viewers use plain HTTP (viewerProtocolPolicy={policy!r}).",
                       "set viewer_protocol_policy=\"redirect-to-https\" (or \"https-only\") on every behaviour."))
    for origin in as_list(plain(args.props.get("origins"))):
        custom = origin.get("customOriginConfig")
        if custom and custom.get("originProtocolPolicy") != "https-only":
            report(fix(f"Origin {origin.get('originId')!r} is fetched over "
                       f"{custom.get('originProtocolPolicy')!r}, so requests leave the edge unencrypted.",
                       "give the origin a certificate and set origin_protocol_policy=\"https-only\"."))


cloudfront_https_only = ResourceValidationPolicy(
    name="cloudfront-https-only",
    description="CloudFront distributions must redirect or refuse plain HTTP on every behaviour and reach custom "
                "origins over HTTPS only.",
    validate=_https_only,
    enforcement_level=MANDATORY,
)


def _min_tls(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DISTRIBUTION:
        return
    certificate = plain(args.props.get("viewerCertificate")) or {}
    if not (certificate.get("acmCertificateArn") or certificate.get("iamCertificateId")):
        return  # CloudFront's default certificate always negotiates from TLSv1; the setting does not apply.
    version = certificate.get("minimumProtocolVersion")
    if version not in MODERN_TLS_VERSIONS:
        report(fix(f"The distribution's custom certificate accepts {version!r}.",
                   f"set viewer_certificate.minimum_protocol_version to one of {list(MODERN_TLS_VERSIONS)} "
                   "(with ssl_support_method=\"sni-only\")."))


cloudfront_min_tls = ResourceValidationPolicy(
    name="cloudfront-min-tls",
    description="A CloudFront distribution with a custom certificate must require TLSv1.2_2021 or newer.",
    validate=_min_tls,
    enforcement_level=MANDATORY,
)


def _s3_origin_oac(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DISTRIBUTION:
        return
    for index, origin in enumerate(as_list(args.props.get("origins"))):
        # Origins without a custom or VPC origin config are S3 (REST) origins.
        if present(origin, "customOriginConfig") or present(origin, "vpcOriginConfig"):
            continue
        name = plain(origin.get("originId")) or f"origins[{index}]"
        legacy = plain(origin.get("s3OriginConfig")) or {}
        if legacy.get("originAccessIdentity"):
            report(fix(f"S3 origin {name!r} uses a legacy origin access identity.",
                       "replace it with an aws.cloudfront.OriginAccessControl (sigv4, signing \"always\") and a "
                       "bucket policy for cloudfront.amazonaws.com conditioned on AWS:SourceArn."))
        elif not present(origin, "originAccessControlId"):
            report(fix(f"S3 origin {name!r} has no origin access control, so the bucket must be public to serve it.",
                       "set origin_access_control_id to an aws.cloudfront.OriginAccessControl (sigv4, signing "
                       "\"always\") and keep the bucket private."))


cloudfront_s3_origin_oac = ResourceValidationPolicy(
    name="cloudfront-s3-origin-oac",
    description="CloudFront must read S3 origins through an origin access control (not public buckets or OAI).",
    validate=_s3_origin_oac,
    enforcement_level=MANDATORY,
)


# TLS versions CloudFront may use towards a custom origin: SSLv3, TLSv1 and TLSv1.1 are broken or deprecated.
ORIGIN_TLS_VERSIONS = ("TLSv1.2",)


def _origin_tls12(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DISTRIBUTION:
        return
    for origin in as_list(plain(args.props.get("origins"))):
        custom = origin.get("customOriginConfig")
        if not custom:
            continue
        weak = [v for v in as_list(custom.get("originSslProtocols")) if v not in ORIGIN_TLS_VERSIONS]
        if weak:
            report(fix(f"Origin {origin.get('originId')!r} lets CloudFront negotiate {weak} with it.",
                       "set origin_ssl_protocols=[\"TLSv1.2\"] on its custom_origin_config."))


cloudfront_origin_tls12 = ResourceValidationPolicy(
    name="cloudfront-origin-tls12",
    description="CloudFront must reach custom origins over TLSv1.2 only (no SSLv3, TLSv1 or TLSv1.1).",
    validate=_origin_tls12,
    enforcement_level=MANDATORY,
)


POLICIES = [cloudfront_https_only, cloudfront_min_tls, cloudfront_s3_origin_oac, cloudfront_origin_tls12]
