"""What answers HTTP in the testbed: the backend pods (run as this module: the answer names the
backend and the address the request came from, the LB's masquerade address when IPVS forwarded
it), and, on a kernel without IPVS, keepalived's stand-in on each VIP inside the LB pod (role
`vip`, standins/keepalived.py), which proves routing (router → ECMP → node → LB pod) and says
so in every answer. /healthz answers `ok` (keepalived's HTTP_GET). A backend also answers each
UDP datagram on its ports with the same line (a UDP service's flows through IPVS)."""

from __future__ import annotations

import argparse
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

IP_FREEBIND = 15  # linux/in.h; Python's socket module does not name it


def answer(role: str, label: str, bind: str, peer: str) -> str:
    if role == "vip":
        return f"lbgen-testbed lb={label} datapath=routed-to-lb-pod ipvs=not-in-kernel\n"
    return f"lbgen-testbed backend={label} at={bind} peer={peer}\n"


class Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True

    def server_bind(self) -> None:
        # HTTPServer's own asks DNS for the address's name (getfqdn): in a namespace with no
        # resolver that stalls every bind for as long as the resolver's timeouts
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]


class Server6(Server):
    address_family = socket.AF_INET6

    def server_bind(self) -> None:
        # an IPv6 VIP is local only through the pod's `local` route, which lets packets
        # in but not a bind (IPv4 allows both): bind freely, as IPVS needs no bind at all
        self.socket.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
        super().server_bind()


def serve(bind: str, port: int, role: str, label: str) -> Server:
    """An HTTP answerer on one address and port, serving in a thread of its own."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a benchmark's client expects

        def do_GET(self) -> None:
            here = self.connection.getsockname()[0]
            text = (
                "ok\n"
                if self.path == "/healthz"
                else answer(role, label, here, self.client_address[0])
            )
            body = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *values: object) -> None:
            return  # one line per request would fill the log

    server = (Server6 if ":" in bind else Server)((bind, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve_udp(bind: str, port: int, role: str, label: str) -> socket.socket:
    """Answer every datagram to bind:port with one line, in a thread of its own."""
    udp = socket.socket(socket.AF_INET6 if ":" in bind else socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((bind, port))

    def loop() -> None:
        while True:
            _data, peer = udp.recvfrom(2048)
            udp.sendto(answer(role, label, bind, peer[0]).encode(), peer)

    threading.Thread(target=loop, daemon=True).start()
    return udp


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bind", action="append", required=True, help="an address (repeat)")
    parser.add_argument("--port", type=int, action="append", required=True)
    parser.add_argument("--label", required=True)
    args = parser.parse_args()
    for bind in args.bind:
        for port in args.port:
            serve(bind, port, "backend", args.label)
            serve_udp(bind, port, "backend", args.label)
    threading.Event().wait()


if __name__ == "__main__":
    main()
