"""`lbgen testbed`: the compiled fabric run by the real daemons in network namespaces."""
