"""The trainlab tracking server: MLflow's REST API (and trainlab's own) over FastAPI."""
