"""daserver-check: finds why a DirectAccess client cannot connect over IP-HTTPS."""

__version__ = "0.1.0"
