"""The trainlab tracking server: MLflow's REST API (and trainlab's own) over FastAPI."""

# Set for the workers of `trainlab server --workers N`: the pid of the process supervising them.
SUPERVISOR_ENV = "TRAINLAB_SERVER_SUPERVISOR"
