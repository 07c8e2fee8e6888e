"""Pulumi mocks that answer like AWS: realistic ids, ARNs, ARN suffixes, endpoints and names.

Values follow AWS's formats so that everything the program derives from them (scaling resource
labels, log options, IAM statements, dashboard dimensions) is checked as it would be for real.
In preview mode only the inputs come back, so every computed output is unknown, as on a first
`pulumi preview`.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

import pulumi

ACCOUNT_ID = "123456789012"


def _hex(seed: str, length: int = 16) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


class FakeCloud(pulumi.runtime.Mocks):
    def __init__(self, region: str = "us-east-1", preview: bool = False):
        self.region = region
        self.preview = preview

    # --- resources -------------------------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        inputs = dict(args.inputs)
        resource_id = f"{args.name}-{_hex(args.typ + args.name, 8)}"
        # A remote component's outputs are its own (typed resources, ids), never an echo of its inputs.
        echoed = {} if not args.custom else inputs
        if self.preview:
            # On a first preview nothing exists yet: an empty id is an unknown id, as with the engine.
            return "", echoed
        computed = self._computed(args.typ, args.name, inputs, resource_id)
        return computed.pop("id", resource_id), {**echoed, **computed}

    def _arn(self, service: str, resource: str, regional: bool = True) -> str:
        region = self.region if regional else ""
        account = ACCOUNT_ID if service not in ("s3",) else ""
        return f"arn:aws:{service}:{region}:{account}:{resource}"

    def _computed(self, typ: str, name: str, inputs: dict[str, Any], resource_id: str) -> dict[str, Any]:
        seed = typ + name
        given_name = inputs.get("name")
        if typ == "awsx:ec2:Vpc":
            zones = inputs.get("availabilityZoneNames") or ["a", "b"]
            tiers = {spec.get("type") for spec in inputs.get("subnetSpecs", [])} or {"Public", "Private"}
            ids = {
                tier: [f"subnet-{_hex(seed + tier + str(i), 17)}" for i in range(len(zones))]
                for tier in ("Public", "Private", "Isolated")
                if tier in tiers
            }
            return {
                "vpcId": f"vpc-{_hex(seed, 17)}",
                "publicSubnetIds": ids.get("Public", []),
                "privateSubnetIds": ids.get("Private", []),
                "isolatedSubnetIds": ids.get("Isolated", []),
            }
        if typ == "aws:lb/loadBalancer:LoadBalancer":
            lb_name = given_name or f"{name[:24]}-{_hex(seed, 7)}"
            suffix = f"app/{lb_name}/{_hex(seed)}"
            return {
                "arn": self._arn("elasticloadbalancing", f"loadbalancer/{suffix}"),
                "arnSuffix": suffix,
                "name": lb_name,
                "dnsName": f"{lb_name}-{_hex(seed, 9)}.{self.region}.elb.amazonaws.com",
                "zoneId": "Z35SXDOTRQ7X7K",
            }
        if typ == "aws:lb/targetGroup:TargetGroup":
            tg_name = given_name or f"{name[:24]}-{_hex(seed, 7)}"
            suffix = f"targetgroup/{tg_name}/{_hex(seed)}"
            return {"arn": self._arn("elasticloadbalancing", suffix), "arnSuffix": suffix, "name": tg_name}
        if typ == "aws:lb/listener:Listener":
            return {"arn": self._arn("elasticloadbalancing", f"listener/app/{name}/{_hex(seed)}/{_hex(seed + 'l')}")}
        if typ == "aws:lb/listenerRule:ListenerRule":
            return {"arn": self._arn("elasticloadbalancing", f"listener-rule/app/{name}/{_hex(seed)}")}
        if typ == "aws:ecs/cluster:Cluster":
            cluster_name = given_name or f"{name}-{_hex(seed, 7)}"
            return {"name": cluster_name, "arn": self._arn("ecs", f"cluster/{cluster_name}")}
        if typ == "aws:ecs/service:Service":
            service_name = given_name or f"{name}-{_hex(seed, 7)}"
            # The long ARN format (service/<cluster>/<service>); the provider's id is the ARN too.
            cluster_name = str(inputs.get("cluster") or "default").rsplit("/", 1)[-1]
            service_arn = self._arn("ecs", f"service/{cluster_name}/{service_name}")
            return {"name": service_name, "id": service_arn, "arn": service_arn}
        if typ == "aws:ecs/taskDefinition:TaskDefinition":
            family = inputs.get("family", name)
            return {"arn": self._arn("ecs", f"task-definition/{family}:1"), "revision": 1,
                    "arnWithoutRevision": self._arn("ecs", f"task-definition/{family}")}
        if typ == "aws:ec2/securityGroup:SecurityGroup":
            return {"id": f"sg-{_hex(seed, 17)}", "arn": self._arn("ec2", f"security-group/sg-{_hex(seed, 17)}")}
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            group_name = given_name or f"{name}-{_hex(seed, 7)}"
            return {"name": group_name, "arn": self._arn("logs", f"log-group:{group_name}")}
        if typ == "aws:iam/role:Role":
            role_name = given_name or f"{name}-{_hex(seed, 7)}"
            return {"name": role_name, "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{role_name}"}
        if typ == "aws:iam/policy:Policy":
            policy_name = given_name or f"{name}-{_hex(seed, 7)}"
            return {"name": policy_name, "arn": f"arn:aws:iam::{ACCOUNT_ID}:policy/{policy_name}"}
        if typ == "aws:secretsmanager/secret:Secret":
            secret_name = given_name or f"{name}-{_hex(seed, 7)}"
            return {"name": secret_name, "arn": self._arn("secretsmanager", f"secret:{secret_name}-{_hex(seed, 6)}")}
        if typ == "aws:rds/instance:Instance":
            identifier = inputs.get("identifier") or f"{name}-{_hex(seed, 7)}"
            return {
                "identifier": identifier,
                "arn": self._arn("rds", f"db:{identifier}"),
                "address": f"{identifier}.c{_hex(seed, 11)}.{self.region}.rds.amazonaws.com",
                "endpoint": f"{identifier}.c{_hex(seed, 11)}.{self.region}.rds.amazonaws.com:5432",
                "port": inputs.get("port", 5432),
                "resourceId": f"db-{_hex(seed, 26).upper()}",
                "masterUserSecrets": [{
                    "secretArn": self._arn("secretsmanager", f"secret:rds!db-{_hex(seed, 8)}-{_hex(seed, 6)}"),
                    "secretStatus": "active",
                    "kmsKeyId": self._arn("kms", f"key/{_hex(seed + 'kms', 32)}"),
                }] if inputs.get("manageMasterUserPassword") else [],
            }
        if typ == "aws:rds/cluster:Cluster":
            identifier = inputs.get("clusterIdentifier") or f"{name}-{_hex(seed, 7)}"
            host = f"c{_hex(seed, 11)}.{self.region}.rds.amazonaws.com"
            return {
                "id": identifier,
                "clusterIdentifier": identifier,
                "arn": self._arn("rds", f"cluster:{identifier}"),
                "endpoint": f"{identifier}.cluster-{host}",
                "readerEndpoint": f"{identifier}.cluster-ro-{host}",
                "port": inputs.get("port", 5432),
                "clusterResourceId": f"cluster-{_hex(seed, 26).upper()}",
                "engineVersion": inputs.get("engineVersion"),
                "masterUserSecrets": [{
                    "secretArn": self._arn("secretsmanager", f"secret:rds!cluster-{_hex(seed, 8)}-{_hex(seed, 6)}"),
                    "secretStatus": "active",
                    "kmsKeyId": self._arn("kms", f"key/{_hex(seed + 'kms', 32)}"),
                }] if inputs.get("manageMasterUserPassword") else [],
            }
        if typ == "aws:rds/clusterInstance:ClusterInstance":
            identifier = inputs.get("identifier") or f"{name}-{_hex(seed, 7)}"
            return {"id": identifier, "identifier": identifier, "arn": self._arn("rds", f"db:{identifier}"),
                    "endpoint": f"{identifier}.c{_hex(seed, 11)}.{self.region}.rds.amazonaws.com", "writer":
                    inputs.get("promotionTier") == 0}
        if typ == "aws:rds/proxy:Proxy":
            proxy_name = given_name or f"{name}-{_hex(seed, 7)}"
            return {"id": proxy_name, "name": proxy_name, "arn": self._arn("rds", f"db-proxy:prx-{_hex(seed, 17)}"),
                    "endpoint": f"{proxy_name}.proxy-c{_hex(seed, 11)}.{self.region}.rds.amazonaws.com"}
        if typ == "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup":
            return {"id": inputs.get("dbProxyName", name), "name": "default",
                    "arn": self._arn("rds", f"target-group:prx-tg-{_hex(seed, 17)}")}
        if typ == "aws:rds/proxyTarget:ProxyTarget":
            target = inputs.get("dbInstanceIdentifier", name)
            return {"id": f"{inputs.get('dbProxyName')},{inputs.get('targetGroupName')},RDS_INSTANCE,{target}",
                    "rdsResourceId": target, "type": "RDS_INSTANCE", "port": 5432}
        if typ in ("aws:rds/subnetGroup:SubnetGroup", "aws:rds/parameterGroup:ParameterGroup",
                   "aws:rds/clusterParameterGroup:ClusterParameterGroup",
                   "aws:elasticache/subnetGroup:SubnetGroup", "aws:elasticache/parameterGroup:ParameterGroup"):
            # These names are auto-generated (lower case) unless given; the name is also the id.
            group_name = given_name or f"{name}-{_hex(seed, 7)}".lower()
            service, kind = typ.split(":")[1].split("/")[0], typ.rsplit(":", 1)[1]
            arn_kind = {"SubnetGroup": "subgrp" if service == "rds" else "subnetgroup",
                        "ParameterGroup": "pg" if service == "rds" else "parametergroup",
                        "ClusterParameterGroup": "cluster-pg"}[kind]
            return {"id": group_name, "name": group_name, "arn": self._arn(service, f"{arn_kind}:{group_name}")}
        if typ == "aws:secretsmanager/secretVersion:SecretVersion":
            # A new value is a new version (the provider replaces the resource: PutSecretValue).
            version_id = str(uuid.UUID(_hex(seed + str(inputs.get("secretString")), 32)))
            return {"id": f"{inputs.get('secretId')}|{version_id}", "arn": inputs.get("secretId"),
                    "versionId": version_id, "versionStages": ["AWSCURRENT"]}
        if typ == "random:index/randomPassword:RandomPassword":
            length = int(inputs.get("length") or 16)
            return {"id": "none", "result": (_hex(seed, 64) * (length // 64 + 1))[:length],
                    "bcryptHash": f"$2a$10${_hex(seed + 'bcrypt', 53)}"}
        if typ == "random:index/randomId:RandomId":
            raw = bytes.fromhex(_hex(seed, 2 * int(inputs.get("byteLength") or 8)))
            b64 = base64.urlsafe_b64encode(raw).decode().rstrip("=")
            return {"id": b64, "hex": raw.hex(), "b64Url": b64, "b64Std": base64.b64encode(raw).decode(),
                    "dec": str(int.from_bytes(raw, "big"))}
        if typ == "aws:rds/proxyEndpoint:ProxyEndpoint":
            return {"endpoint": f"{name}.endpoint.proxy-c{_hex(seed, 11)}.{self.region}.rds.amazonaws.com"}
        if typ == "aws:elasticache/replicationGroup:ReplicationGroup":
            group_id = inputs.get("replicationGroupId") or f"{name}-{_hex(seed, 7)}"
            count = int(inputs.get("numCacheClusters") or 1)
            shards = int(inputs.get("numNodeGroups") or 0)
            if shards:
                per_shard = 1 + int(inputs.get("replicasPerNodeGroup") or 0)
                return {
                    "arn": self._arn("elasticache", f"replicationgroup:{group_id}"),
                    "configurationEndpointAddress": f"clustercfg.{group_id}.{_hex(seed, 6)}.use1.cache.amazonaws.com",
                    "port": inputs.get("port", 6379),
                    "memberClusters": [f"{group_id}-{s + 1:04d}-{n + 1:03d}" for s in range(shards)
                                       for n in range(per_shard)],
                }
            return {
                "arn": self._arn("elasticache", f"replicationgroup:{group_id}"),
                "primaryEndpointAddress": f"master.{group_id}.{_hex(seed, 6)}.use1.cache.amazonaws.com",
                "readerEndpointAddress": f"replica.{group_id}.{_hex(seed, 6)}.use1.cache.amazonaws.com",
                "port": inputs.get("port", 6379),
                "memberClusters": [f"{group_id}-{i + 1:03d}" for i in range(count)],
            }
        if typ == "aws:ecr/repository:Repository":
            repo_name = given_name or name
            return {"arn": self._arn("ecr", f"repository/{repo_name}"), "name": repo_name,
                    "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{self.region}.amazonaws.com/{repo_name}"}
        if typ in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
            bucket = inputs.get("bucket") or f"{name}-{_hex(seed, 12)}"
            return {"id": bucket, "bucket": bucket, "arn": f"arn:aws:s3:::{bucket}",
                    "bucketRegionalDomainName": f"{bucket}.s3.{self.region}.amazonaws.com"}
        if typ == "aws:sfn/stateMachine:StateMachine":
            # name_prefix gets a 26-character unique suffix, as the provider's PrefixedUniqueId does.
            machine_name = given_name or f"{inputs.get('namePrefix', name + '-')}{int(_hex(seed, 20), 16):026d}"[:80]
            return {"name": machine_name, "arn": self._arn("states", f"stateMachine:{machine_name}")}
        if typ == "aws:cloudwatch/eventRule:EventRule":
            rule_name = given_name or f"{name}-{_hex(seed, 7)}"
            return {"name": rule_name, "arn": self._arn("events", f"rule/{rule_name}")}
        if typ == "aws:sqs/queue:Queue":
            queue = given_name or f"{name}-{_hex(seed, 7)}"
            return {"id": f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT_ID}/{queue}", "name": queue,
                    "url": f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT_ID}/{queue}",
                    "arn": self._arn("sqs", queue)}
        if typ == "aws:scheduler/schedule:Schedule":
            schedule = given_name or f"{name}-{_hex(seed, 7)}"
            group = inputs.get("groupName", "default")
            return {"name": schedule, "groupName": group, "arn": self._arn("scheduler", f"schedule/{group}/{schedule}")}
        if typ == "aws:sns/topic:Topic":
            topic = given_name or f"{name}-{_hex(seed, 7)}"
            return {"name": topic, "arn": self._arn("sns", topic)}
        if typ == "aws:kms/key:Key":
            key_id = _hex(seed + "kms", 32)
            return {"id": key_id, "keyId": key_id, "arn": self._arn("kms", f"key/{key_id}")}
        if typ == "aws:acm/certificate:Certificate":
            # One CNAME per name on the certificate (the domain name and each subject alternative name).
            names = [inputs.get("domainName", "example.com"), *(inputs.get("subjectAlternativeNames") or [])]
            certificate_id = _hex(seed, 32)
            return {
                "arn": self._arn("acm", "certificate/" + "-".join(
                    certificate_id[start:end] for start, end in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))
                )),
                "domainValidationOptions": [{
                    "domainName": domain,
                    "resourceRecordName": f"_{_hex(seed + domain, 32)}.{domain}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": f"_{_hex(seed + domain + 'v', 32)}.{_hex(domain, 10)}.acm-validations.aws.",
                } for domain in names],
            }
        if typ == "aws:route53/record:Record":
            # Route 53 answers with the name without its trailing dot; the id is <zone>_<name>_<type>.
            fqdn = str(inputs.get("name", name)).rstrip(".")
            return {"id": f"{inputs.get('zoneId')}_{fqdn}_{inputs.get('type')}", "fqdn": fqdn}
        if typ == "aws:cloudfront/distribution:Distribution":
            distribution = f"E{_hex(seed, 13).upper()}"
            return {"id": distribution, "arn": f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/{distribution}",
                    "domainName": f"d{_hex(seed, 13)}.cloudfront.net", "hostedZoneId": "Z2FDTNDATAQYW2"}
        if typ == "aws:cloudfront/function:Function":
            function = given_name or f"{name}-{_hex(seed, 7)}"
            return {"name": function, "arn": f"arn:aws:cloudfront::{ACCOUNT_ID}:function/{function}",
                    "etag": f"E{_hex(seed + 'etag', 13).upper()}", "status": "UNASSOCIATED"}
        if typ == "aws:appautoscaling/target:Target":
            return {"arn": self._arn("application-autoscaling", f"scalable-target/{_hex(seed, 20)}")}
        if typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
            return {"arn": self._arn("cloudwatch", f"alarm:{given_name or name}")}
        if typ == "aws:cloudwatch/dashboard:Dashboard":
            return {"dashboardArn": f"arn:aws:cloudwatch::{ACCOUNT_ID}:dashboard/{inputs.get('dashboardName', name)}"}
        if typ == "aws:sns/topicSubscription:TopicSubscription":
            # An email endpoint stays pending until the recipient clicks the link AWS sends it.
            email = inputs.get("protocol") in ("email", "email-json")
            topic_arn = inputs.get("topic") or self._arn("sns", name)
            return {"arn": f"{topic_arn}:{uuid.UUID(_hex(seed, 32))}", "pendingConfirmation": email,
                    "ownerId": ACCOUNT_ID, "confirmationWasAuthenticated": False}
        # --- NAT instances and VPC endpoints ---
        if typ == "aws:ec2/networkInterface:NetworkInterface":
            eni = f"eni-{_hex(seed, 17)}"
            return {"id": eni, "arn": self._arn("ec2", f"network-interface/{eni}"),
                    "privateIp": f"10.0.{int(_hex(seed, 2), 16) % 32}.{int(_hex(seed + 'ip', 2), 16) % 250 + 4}"}
        if typ == "aws:ec2/launchTemplate:LaunchTemplate":
            template = f"lt-{_hex(seed, 17)}"
            return {"id": template, "arn": self._arn("ec2", f"launch-template/{template}"),
                    "name": given_name or f"{name}-{_hex(seed, 7)}", "latestVersion": 1, "defaultVersion": 1}
        if typ == "aws:autoscaling/group:Group":
            group = given_name or f"{name}-{_hex(seed, 7)}"
            return {"id": group, "name": group, "arn": self._arn(
                "autoscaling", f"autoScalingGroup:{uuid.UUID(_hex(seed, 32))}:autoScalingGroupName/{group}")}
        if typ == "aws:iam/instanceProfile:InstanceProfile":
            profile = given_name or f"{name}-{_hex(seed, 7)}"
            return {"id": profile, "name": profile, "arn": f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/{profile}"}
        if typ == "aws:ec2/vpcEndpoint:VpcEndpoint":
            endpoint = f"vpce-{_hex(seed, 17)}"
            return {"id": endpoint, "arn": self._arn("ec2", f"vpc-endpoint/{endpoint}"),
                    "prefixListId": f"pl-{_hex(seed, 8)}", "state": "available"}
        if typ == "aws:servicediscovery/httpNamespace:HttpNamespace":
            namespace, namespace_name = f"ns-{_hex(seed, 16)}", given_name or f"{name}-{_hex(seed, 7)}"
            return {"id": namespace, "name": namespace_name, "httpName": namespace_name,
                    "arn": self._arn("servicediscovery", f"namespace/{namespace}")}
        if typ == "aws:ec2/route:Route":
            return {"id": f"r-{inputs.get('routeTableId')}{_hex(inputs.get('destinationCidrBlock', ''), 10)}"}
        if "arn" not in inputs and typ.startswith("aws:"):
            return {"arn": self._arn(typ.split(":")[1].split("/")[0], f"{name}/{_hex(seed, 12)}")}
        return {}

    # --- provider functions ----------------------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs):
        token = args.token
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/preflight",
                    "userId": "AIDPREFLIGHT", "id": ACCOUNT_ID}
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        if token == "aws:route53/getZone:getZone":
            zone = args.args.get("name", "example.com").rstrip(".")
            return {"zoneId": f"Z{_hex(zone, 20).upper()}", "name": zone, "id": f"Z{_hex(zone, 20).upper()}"}
        if token == "aws:elb/getServiceAccount:getServiceAccount":
            return {"arn": "arn:aws:iam::127311923021:root", "id": "127311923021"}
        if token == "aws:ec2/getRouteTable:getRouteTable":
            # The route table awsx associates with each subnet (one per subnet).
            subnet = args.args.get("subnetId", "")
            table = f"rtb-{_hex('rtb' + subnet, 17)}"
            return {"id": table, "routeTableId": table, "subnetId": subnet, "ownerId": ACCOUNT_ID,
                    "arn": self._arn("ec2", f"route-table/{table}"), "routes": [],
                    "associations": [{"routeTableAssociationId": f"rtbassoc-{_hex(table + subnet, 17)}",
                                      "routeTableId": table, "subnetId": subnet, "main": False}]}
        if token == "aws:ec2/getManagedPrefixList:getManagedPrefixList":
            # AWS-managed lists have one id per region; CloudFront's origin-facing list has about 55 entries.
            name = args.args.get("name", "")
            prefix_list = f"pl-{_hex(self.region + name, 8)}"
            return {"id": prefix_list, "name": name, "maxEntries": 55, "addressFamily": "IPv4",
                    "ownerId": "AWS", "arn": f"arn:aws:ec2:{self.region}:aws:prefix-list/{prefix_list}",
                    "entries": [], "version": 1}
        if token == "aws:ec2/getAmi:getAmi":
            filters = {f.get("name"): (f.get("values") or [""])[0] for f in args.args.get("filters") or []}
            image = f"ami-{_hex(self.region + filters.get('name', ''), 17)}"
            return {"id": image, "imageId": image, "name": filters.get("name", ""),
                    "architecture": filters.get("architecture", "x86_64"),
                    "ownerId": (args.args.get("owners") or [ACCOUNT_ID])[0], "rootDeviceName": "/dev/xvda",
                    "state": "available", "public": True}
        return {}
