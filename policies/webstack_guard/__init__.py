"""webstack-guard: the CrossGuard rules of the webstack project, one module per concern."""

from . import edge, encryption, iam, network, observability, resilience, resource_policies, secrets, storage, tagging

ALL_POLICIES = [
    *network.POLICIES,
    *secrets.POLICIES,
    *encryption.POLICIES,
    *resilience.POLICIES,
    *iam.POLICIES,
    *resource_policies.POLICIES,
    *observability.POLICIES,
    *storage.POLICIES,
    *edge.POLICIES,
    *tagging.POLICIES,
]
