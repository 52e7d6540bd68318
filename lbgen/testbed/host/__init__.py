"""Plumbing on this host: namespaces and links, processes tracked by PID, LB pods' containers
(in the LB image's root filesystem), passwords laid out, a router's kernel read back, and what
must be there before anything starts."""
