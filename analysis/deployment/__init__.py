"""Would it deploy? The deployment plan (waves of stacks, the bootstrap each account and
region needs) and the deployability gate, read from the synthesized cloud assembly.

Plain Python over the manifest and the templates: imports only ``analysis.assembly`` and
the standard library (and the IAM action database the gate judges permissions with),
never the CDK.
"""
