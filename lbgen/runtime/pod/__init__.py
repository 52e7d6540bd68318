"""What runs inside an LB pod: datapath setup, exabgp start, probes, withdraw and drain.
Each step is a pure function (commands, parsers, renderers) behind a thin edge that acts."""
