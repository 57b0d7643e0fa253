"""Hyperparameter tuning with Optuna: a study is a parent run, each trial a child run; trials run
in this process, in local worker processes, on a Ray cluster or as a Kubernetes Indexed Job."""
