"""Talking to the Kubernetes API: the only place lbgen imports the kubernetes client."""
