"""The payloads we hand AWS pass AWS's own API models (botocore): what mocks cannot catch."""

from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.validate import ParamValidator

SESSION = botocore.session.get_session()


def validate(service: str, operation: str, params: dict) -> None:
    model = SESSION.get_service_model(service).operation_model(operation)
    report = ParamValidator().validate(params, model.input_shape)
    assert not report.has_errors(), report.generate_report()
    _check_enums(model.input_shape, params, operation)


def _check_enums(shape, value, path: str) -> None:
    """botocore's validator skips enums; AWS does not."""
    if shape.type_name == "structure":
        for key, item in value.items():
            _check_enums(shape.members[key], item, f"{path}.{key}")
    elif shape.type_name == "list":
        for index, item in enumerate(value):
            _check_enums(shape.member, item, f"{path}[{index}]")
    elif shape.type_name == "string" and shape.enum:
        assert value in shape.enum, f"{path}: {value!r} is not one of {shape.enum}"


def pascal(value):
    """Pulumi's camelCase inputs to the Application Auto Scaling API's PascalCase members."""
    if isinstance(value, dict):
        return {key[0].upper() + key[1:]: pascal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [pascal(item) for item in value]
    return value


def test_task_definitions_pass_register_task_definition(any_run):
    tasks = any_run.of_type("aws:ecs/taskDefinition:TaskDefinition")
    assert tasks
    for task in tasks:
        inputs = task.inputs
        validate("ecs", "RegisterTaskDefinition", {
            "family": inputs["family"],
            "containerDefinitions": json.loads(inputs["containerDefinitions"]),
            "cpu": inputs["cpu"],
            "memory": inputs["memory"],
            "networkMode": inputs["networkMode"],
            "requiresCompatibilities": inputs["requiresCompatibilities"],
            "executionRoleArn": inputs["executionRoleArn"],
            "taskRoleArn": inputs["taskRoleArn"],
            "runtimePlatform": inputs["runtimePlatform"],
            **({"volumes": inputs["volumes"]} if "volumes" in inputs else {}),
            **({"ephemeralStorage": {"sizeInGiB": int(inputs["ephemeralStorage"]["sizeInGib"])}}
               if "ephemeralStorage" in inputs else {}),
        })
        # Every mount point names a volume of the task definition.
        volumes = {volume["name"] for volume in inputs.get("volumes", [])}
        for container in json.loads(inputs["containerDefinitions"]):
            assert {mount["sourceVolume"] for mount in container["mountPoints"]} <= volumes, task.name


def test_a_container_definition_with_every_option_passes():
    from helpers.container import container_definition

    definition = container_definition(
        name="api", image="123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1", port=8000,
        log_group="/webstack/prod/api", region="us-east-1", environment={"A": "1"},
        secrets={"DB_PASSWORD": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password::"},
        stop_timeout=120, command=["gunicorn", "app.wsgi"], health_command=["CMD-SHELL", "curl -f localhost || exit 1"],
        health_interval=30, health_timeout=5, health_retries=3, health_start_period=600, init_process=True,
    )
    assert definition["healthCheck"]["startPeriod"] == 300
    validate("ecs", "RegisterTaskDefinition", {"family": "api", "containerDefinitions": [definition]})


def test_a_container_definition_without_a_port_has_no_port_mappings():
    from helpers.container import container_definition

    definition = container_definition(
        name="worker", image="123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1", port=None,
        log_group="/webstack/prod/worker", region="us-east-1", environment={}, secrets={}, stop_timeout=60,
        command=["celery", "-A", "app", "worker"],
    )
    assert "portMappings" not in definition
    validate("ecs", "RegisterTaskDefinition", {"family": "worker", "containerDefinitions": [definition]})


def step_scaling(configuration: dict) -> dict:
    """The provider takes step bounds as strings (its schema's type); the API takes numbers."""
    converted = pascal(configuration)
    for step in converted.get("StepAdjustments", []):
        for bound in ("MetricIntervalLowerBound", "MetricIntervalUpperBound"):
            if bound in step:
                step[bound] = float(step[bound])
    return converted


def test_scaling_policies_pass_put_scaling_policy(any_run):
    policies = any_run.of_type("aws:appautoscaling/policy:Policy")
    assert policies
    for policy in policies:
        inputs = policy.inputs
        configuration = {"TargetTrackingScalingPolicyConfiguration": pascal(
            inputs["targetTrackingScalingPolicyConfiguration"])} if inputs["policyType"] == "TargetTrackingScaling" \
            else {"StepScalingPolicyConfiguration": step_scaling(inputs["stepScalingPolicyConfiguration"])}
        validate("application-autoscaling", "PutScalingPolicy", {
            "PolicyName": inputs.get("name", policy.name),
            "ServiceNamespace": inputs["serviceNamespace"],
            "ResourceId": inputs["resourceId"],
            "ScalableDimension": inputs["scalableDimension"],
            "PolicyType": inputs["policyType"],
            **configuration,
        })


def test_scalable_targets_pass_register_scalable_target(any_run):
    for target in any_run.of_type("aws:appautoscaling/target:Target"):
        inputs = target.inputs
        validate("application-autoscaling", "RegisterScalableTarget", {
            "ServiceNamespace": inputs["serviceNamespace"],
            "ResourceId": inputs["resourceId"],
            "ScalableDimension": inputs["scalableDimension"],
            "MinCapacity": inputs["minCapacity"],
            "MaxCapacity": inputs["maxCapacity"],
        })


def test_enum_check_catches_a_wrong_metric_name():
    with pytest.raises(AssertionError, match="ECSServiceAverageCPU"):
        validate("application-autoscaling", "PutScalingPolicy", {
            "PolicyName": "p", "ServiceNamespace": "ecs", "ResourceId": "service/c/s",
            "ScalableDimension": "ecs:service:DesiredCount", "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": 70.0,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPU"},
            },
        })


def test_target_groups_pass_create_target_group(any_run):
    for group in any_run.of_type("aws:lb/targetGroup:TargetGroup"):
        inputs, health = group.inputs, group.inputs["healthCheck"]
        validate("elbv2", "CreateTargetGroup", {
            "Name": group.outputs["name"],
            "Protocol": inputs["protocol"],
            "Port": inputs["port"],
            "VpcId": inputs["vpcId"],
            "TargetType": inputs["targetType"],
            "HealthCheckProtocol": health["protocol"],
            "HealthCheckPath": health["path"],
            "HealthCheckIntervalSeconds": health["interval"],
            "HealthCheckTimeoutSeconds": health["timeout"],
            "HealthyThresholdCount": health["healthyThreshold"],
            "UnhealthyThresholdCount": health["unhealthyThreshold"],
            "Matcher": {"HttpCode": health["matcher"]},
        })
        assert len(group.outputs["name"]) <= 32


# --- the static frontend (lean) ---------------------------------------------------------------------

def test_static_frontend_distribution_passes_create_distribution(lean_run):
    """The lean distribution mapped to CloudFront's API (enums: viewer and origin protocol policies, origin TLS
    versions, minimum protocol version, function event type, price class, HTTP version)."""
    inputs = lean_run.by_name("frontend-cdn").inputs

    def items(values: list) -> dict:
        return {"Quantity": len(values), "Items": values}

    def behaviour(b: dict) -> dict:
        shaped = {
            "TargetOriginId": b["targetOriginId"], "ViewerProtocolPolicy": b["viewerProtocolPolicy"],
            "AllowedMethods": {**items(b["allowedMethods"]), "CachedMethods": items(b["cachedMethods"])},
            "Compress": b["compress"], "CachePolicyId": b["cachePolicyId"],
        }
        if "originRequestPolicyId" in b:
            shaped["OriginRequestPolicyId"] = b["originRequestPolicyId"]
        if "functionAssociations" in b:
            shaped["FunctionAssociations"] = items([{"FunctionARN": f["functionArn"], "EventType": f["eventType"]}
                                                    for f in b["functionAssociations"]])
        return shaped

    origins = []
    for origin in inputs["origins"]:
        shaped = {"Id": origin["originId"], "DomainName": origin["domainName"]}
        if "originAccessControlId" in origin:
            shaped |= {"OriginAccessControlId": origin["originAccessControlId"], "S3OriginConfig": {
                "OriginAccessIdentity": ""}}
        if "customOriginConfig" in origin:
            custom = origin["customOriginConfig"]
            shaped["CustomOriginConfig"] = {
                "HTTPPort": custom["httpPort"], "HTTPSPort": custom["httpsPort"],
                "OriginProtocolPolicy": custom["originProtocolPolicy"],
                "OriginSslProtocols": items(custom["originSslProtocols"])}
            shaped["CustomHeaders"] = items([{"HeaderName": h["name"], "HeaderValue": h["value"]}
                                             for h in origin["customHeaders"]])
        origins.append(shaped)
    certificate = inputs["viewerCertificate"]
    validate("cloudfront", "CreateDistribution", {"DistributionConfig": {
        "CallerReference": "preflight", "Comment": inputs["comment"], "Enabled": inputs["enabled"],
        "Aliases": items(inputs["aliases"]), "DefaultRootObject": inputs["defaultRootObject"],
        "Origins": items(origins),
        "DefaultCacheBehavior": behaviour(inputs["defaultCacheBehavior"]),
        "CacheBehaviors": items([{"PathPattern": b["pathPattern"], **behaviour(b)}
                                 for b in inputs["orderedCacheBehaviors"]]),
        "PriceClass": inputs["priceClass"], "HttpVersion": inputs["httpVersion"],
        "IsIPV6Enabled": inputs["isIpv6Enabled"],
        "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
        "ViewerCertificate": {"ACMCertificateArn": certificate["acmCertificateArn"],
                              "SSLSupportMethod": certificate["sslSupportMethod"],
                              "MinimumProtocolVersion": certificate["minimumProtocolVersion"]},
    }})


def test_spa_fallback_function_passes_create_function(lean_run):
    function = lean_run.one("aws:cloudfront/function:Function")
    validate("cloudfront", "CreateFunction", {
        "Name": function.outputs["name"], "FunctionCode": function.inputs["code"].encode(),
        "FunctionConfig": {"Comment": function.inputs["comment"], "Runtime": function.inputs["runtime"]},
    })


def test_origin_header_rules_and_prefix_list_ingress_pass_elbv2_and_ec2(lean_run):
    for rule in lean_run.of_type("aws:lb/listenerRule:ListenerRule"):
        conditions = []
        for condition in rule.inputs["conditions"]:
            if "pathPattern" in condition:
                conditions.append({"Field": "path-pattern", "PathPatternConfig": pascal(condition["pathPattern"])})
            if "httpHeader" in condition:
                header = condition["httpHeader"]
                conditions.append({"Field": "http-header", "HttpHeaderConfig": {
                    "HttpHeaderName": header["httpHeaderName"], "Values": header["values"]}})
                assert len(header["httpHeaderName"]) <= 40 and all(len(v) <= 128 for v in header["values"])
        validate("elbv2", "CreateRule", {
            "ListenerArn": rule.inputs["listenerArn"], "Priority": rule.inputs["priority"],
            "Conditions": conditions,
            "Actions": [{"Type": "forward", "TargetGroupArn": rule.inputs["actions"][0]["targetGroupArn"]}],
        })
    ingress = lean_run.by_name("web-in-443-cloudfront").inputs
    validate("ec2", "AuthorizeSecurityGroupIngress", {
        "GroupId": ingress["securityGroupId"],
        "IpPermissions": [{"IpProtocol": ingress["ipProtocol"], "FromPort": ingress["fromPort"],
                           "ToPort": ingress["toPort"], "PrefixListIds": [{
                               "PrefixListId": ingress["prefixListId"], "Description": ingress["description"]}]}],
    })
