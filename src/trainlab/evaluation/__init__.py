"""Model promotion gate: a policy, paired bootstrap evidence and the promote/keep verdict."""
