"""Machine-learning pieces two services share: the feature pipeline and the model artifact format."""
