"""Training pipelines: a spec (YAML or Python), data loading with fingerprints and sealed splits,
framework adapters, and the runner that tracks every run completely."""
