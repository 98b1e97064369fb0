"""Neural-network building blocks. ``glassgrad.nn.functional`` holds the functional forms."""

from glassgrad.nn import functional
