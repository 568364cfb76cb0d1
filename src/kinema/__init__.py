"""Kinema: a self-hosted Seedance-compatible video generation service."""

__version__ = "0.1.0"
