"""webstack's ComponentResources, one per file.

One convention for their arguments (a frozen `<Name>Args` dataclass): a component that a config
section drives takes that section whole as `settings`, already resolved for the environment
(`StackConfig.resolved()`, so no `None` is left to interpret); every other field is wiring (Inputs
from other components: ids, ARNs, subnets) or stack-wide context (region, account id, log retention).
"""
