"""The ai service's domain logic: labels, models, walk-forward evaluation, training jobs, registry."""
