"""What a service that `uses` a data store receives: the variable names, declared once. Pure.

`components/database.py` and `components/cache.py` build their clients' variables with these
functions, the stack config refuses a service that sets one of these names itself, and
docs/configuration.md lists them (`stackconfig.reference`).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

# Plain environment: where the database is. The read hosts exist only with read replicas.
DATABASE_ENVIRONMENT = ("DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME")
DATABASE_REPLICA_ENVIRONMENT = ("DATABASE_READ_HOST", "DATABASE_READ_HOSTS")
# ECS secrets: variable -> JSON key of the master user secret (RDS's own, or the program's: same keys).
DATABASE_SECRET_KEYS = {"DATABASE_USER": "username", "DATABASE_PASSWORD": "password"}
CACHE_ENVIRONMENT = ("REDIS_HOST", "REDIS_PORT", "REDIS_TLS", "REDIS_URL", "REDIS_CLUSTER")
CACHE_SECRETS = ("REDIS_AUTH_TOKEN",)

# Every name a store injects, by the `uses` entry that injects it.
INJECTED_BY: Mapping[str, tuple[str, ...]] = {
    "database": DATABASE_ENVIRONMENT + DATABASE_REPLICA_ENVIRONMENT + tuple(DATABASE_SECRET_KEYS),
    "cache": CACHE_ENVIRONMENT + CACHE_SECRETS,
}


def json_key_reference(secret_arn: str, json_key: str) -> str:
    """ECS `valueFrom` of one key of a JSON secret."""
    return f"{secret_arn}:{json_key}::"


def database_environment(host: Any, port: int, database_name: str, replica_hosts: Sequence[Any] = (),
                         joined_replica_hosts: Optional[Any] = None) -> dict[str, Any]:
    """`replica_hosts` (values or Outputs) and, with replicas, all of them joined with commas."""
    host_name, port_name, name_name = DATABASE_ENVIRONMENT
    environment = {host_name: host, port_name: str(port), name_name: database_name}
    if replica_hosts:
        read_host, read_hosts = DATABASE_REPLICA_ENVIRONMENT
        environment[read_host] = replica_hosts[0]
        environment[read_hosts] = joined_replica_hosts
    return environment


def redis_url(host: str, port: int) -> str:
    """TLS is required (transit encryption): the `rediss://` scheme; the AUTH token comes as REDIS_AUTH_TOKEN."""
    return f"rediss://{host}:{port}"


def cache_environment(host: Any, port: int, cluster_mode: bool = False) -> dict[str, Any]:
    """`host` is the primary endpoint, or with cluster mode the configuration endpoint (a cluster-aware client
    discovers the shards from it: REDIS_CLUSTER=true)."""
    host_name, port_name, tls_name, url_name, cluster_name = CACHE_ENVIRONMENT
    url = host.apply(lambda value: redis_url(value, port)) if hasattr(host, "apply") else redis_url(host, port)
    return {host_name: host, port_name: str(port), tls_name: "true", url_name: url,
            cluster_name: "true" if cluster_mode else "false"}


def cache_secrets(token_secret_arn: Any) -> dict[str, Any]:
    (token_name,) = CACHE_SECRETS
    return {token_name: token_secret_arn}
