"""Declarative reconciler for Azure ML inference clusters on AKS."""

__version__ = "0.1.0"
