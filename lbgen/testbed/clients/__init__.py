"""Traffic: what a client gets from a VIP (asking), and the clients run in a namespace across an
event (flows: connections held open; churn: short connections made all along)."""
