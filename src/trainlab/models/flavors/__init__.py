"""Model flavors: how one framework's models are saved into and loaded from a model folder."""
