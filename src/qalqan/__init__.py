"""Qalqan: counter-terrorism screening and information exchange."""

__version__ = "0.1.0"
