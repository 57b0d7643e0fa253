"""Ready-made PyTorch modules for the ``pytorch`` flavor, so a pipeline can train a network
without code of its own::

    model:
      flavor: pytorch
      class: trainlab.training.nets.TabularMLP
      params: {hidden: [64, 32], dropout: 0.1}
"""

from __future__ import annotations

import torch


class TabularMLP(torch.nn.Module):
    """A multi-layer perceptron for tabular data. Inputs pass a batch normalisation first, so
    features need no scaling beforehand. ``n_features`` and ``n_outputs`` (classes, or 1 for
    regression) are filled in from the data; ``hidden`` gives the layer sizes."""

    def __init__(
        self,
        n_features: int,
        n_outputs: int,
        hidden: int | list[int] = 64,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        sizes = [hidden] if isinstance(hidden, int) else list(hidden)
        if not sizes or any(s < 1 for s in sizes):
            raise ValueError(f"hidden must be positive layer sizes, got {hidden!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        layers: list[torch.nn.Module] = [torch.nn.BatchNorm1d(n_features)]
        width = n_features
        for size in sizes:
            layers += [torch.nn.Linear(width, size), torch.nn.ReLU()]
            if dropout:
                layers.append(torch.nn.Dropout(dropout))
            width = size
        layers.append(torch.nn.Linear(width, n_outputs))
        self.layers = torch.nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.layers(x)
        return out
