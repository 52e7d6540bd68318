"""lbgen: compile one fabric spec into every config an ECMP load-balancer fabric needs."""

__version__ = "0.1.0"
