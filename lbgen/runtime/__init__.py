"""What runs in the LB pods and on the boxes, apart from the compiler: the hook (keepalived's
real servers from the API), the pod's steps, probes and announcer, the node agent, the box
config joiner, and the small API client they share. The compiler never imports it, and it
never imports the spec, its checks or its reader (import-linter holds both); it is what the
wheel's `runtime` extra and the LB image carry."""
