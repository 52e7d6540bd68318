"""Bring a testbed up and down, and read what it routes. Everything lives in namespaces named
with one prefix; what was started is in the work folder's state.json (testbed/state.py).
Rooms: layout.py (where things go), netns.py (plumbing), daemons.py (argv, API objects),
processes.py (start and end), pods.py (LB pods as the Deployment says); the Testbed class by
what it does: base.py (its state), wiring.py (the network), workloads.py (backends, the API,
LB pods), observing.py (what it sees), faults.py (what it breaks), and this file (the order
of up and down)."""

from __future__ import annotations

import signal
from dataclasses import dataclass

from lbgen.errors import LbgenError
from lbgen.testbed import daemons, netns, processes, secrets
from lbgen.testbed.faults import Faults
from lbgen.testbed.state import State


@dataclass
class Testbed(Faults):
    __test__ = False  # not a pytest test class, despite the name

    def up(self) -> None:
        if self.state.namespaces:
            raise LbgenError(f"a testbed is already up in {self.workdir}")
        daemons.preflight(self.plan, self.workdir, self.external)
        self.state = State(self.prefix)
        self._save()
        secrets.lay_passwords(self.plan, self.tree, self.workdir)
        try:
            self._network()
            self._routers()
            self._reflectors()
            self._nodes()
            self._backends()
            self._apiserver()
            for lb in self.lbs:
                self._start_pod(lb)
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        """End everything the testbed started, then whatever still runs in its namespaces
        (ours by construction), then delete them: a few seconds, whatever the size."""
        self._end(list(self.state.processes))
        for name in self.state.namespaces:
            pids = netns.pids_in(name)
            processes.end_all(pids, {}, lambda _pid: True, signal.SIGKILL, grace=1.0)
        for name in reversed(self.state.namespaces):
            netns.delete_netns(name)
        self.state = State(self.prefix)
        (self.workdir / "state.json").unlink(missing_ok=True)
