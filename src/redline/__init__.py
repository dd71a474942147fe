"""Redline: a deconfliction hotline between sovereign stations.

Layers, with dependencies running one way (see docs/architecture.md)::

    cli, web  ->  services  ->  domain, protocol, wire, crypto  ->  errors
                  services use store and transport through small Protocols.
"""

__version__ = "0.1.0"
