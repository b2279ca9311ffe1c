"""covgraph: the detection coverage graph."""

__version__ = "0.1.0"
