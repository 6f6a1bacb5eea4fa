"""Pattern 3: one sample workload at one of four disaster-recovery tiers.

The stacks (``recovery``, ``home``, ``standby``, placed by ``placement``) compose the
constructs of ``cdk_constructs/disaster_recovery/``; what each region runs at each tier is
decided in one place, ``cdk_constructs/disaster_recovery/plan.py``.
"""
