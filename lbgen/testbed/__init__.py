"""`lbgen testbed`: the compiled fabric run by the real daemons in network namespaces, the proof
that what lbgen writes routes. Sub-packages by kind:

    bed/       the testbed: one core and its parts (net, workloads, see, faults); up and down
    model/     pure: where everything goes (layout, shapes), how each daemon is run, the API's
               objects, LB pods as their Deployment describes them
    host/      plumbing on this host: namespaces and links, processes, containers in the LB
               image, passwords, a router's kernel read back, what must be there first
    standins/  what runs in place of the real thing (`python -m`): the API server, keepalived
               where the kernel has no IPVS, the backends
    clients/   traffic: requests to a VIP, connections held or churned across an event
    vm/        a Debian kernel with IPVS under QEMU, for the real datapath

command.py is `lbgen testbed up|status|check|down`; report.py what it prints."""
