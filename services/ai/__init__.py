"""The ai service: Feature pipelines, model training, model registry, prediction."""
