"""Names of the run tags that trainlab reads and writes: MLflow's, so that its clients and UI
understand them, and trainlab's own."""

RUN_NAME_TAG = "mlflow.runName"  # the run's name: setting it renames the run
PARENT_RUN_TAG = "mlflow.parentRunId"
USER_TAG = "mlflow.user"
DATASET_CONTEXT_TAG = "mlflow.data.context"  # of a run's input: the dataset's role (train, eval)
SOURCE_NAME_TAG = "mlflow.source.name"
SOURCE_TYPE_TAG = "mlflow.source.type"
GIT_COMMIT_TAG = "mlflow.source.git.commit"
GIT_BRANCH_TAG = "mlflow.source.git.branch"
GIT_DIRTY_TAG = "trainlab.git.dirty"  # "True" when the run's code had uncommitted changes
MODEL_VERSIONS_TAG = "mlflow.modelVersions"  # of a logged model: the versions registered from it
TRIAL_STATE_TAG = "trainlab.trial.state"  # a tuning trial's end: COMPLETE, PRUNED, FAIL
STOPPED_TAG = "trainlab.stopped"  # why a run ended before its training did (pruned, ...)
