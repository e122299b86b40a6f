"""Fundwall: cut the funds chain of telecom and online fraud."""

__version__ = "0.1.0"
