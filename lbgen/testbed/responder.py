"""What answers on a VIP inside a testbed LB pod: this kernel has no IPVS, so the testbed proves
routing (router → ECMP → node → LB pod) and says so in every answer; it forwards nothing."""

from __future__ import annotations

import argparse
import socketserver
import threading


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bind", required=True)
    parser.add_argument("--port", type=int, action="append", required=True)
    parser.add_argument("--label", required=True)
    args = parser.parse_args()
    answer = f"lbgen-testbed lb={args.label} datapath=routed-to-lb-pod ipvs=not-in-kernel\n"

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.sendall(answer.encode())

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    servers = [socketserver.ThreadingTCPServer((args.bind, port), Handler) for port in args.port]
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
