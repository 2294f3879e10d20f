#!/usr/bin/env python3
"""HTTP origin of the simulated Internet.

Listens on [::]:PORT with IPV6_V6ONLY off (so IPv4 clients arrive as
::ffff:a.b.c.d) and answers every GET with 200 and the client's address as
seen by the server, IPv4-mapped prefix stripped. Logs each request to stdout.

One exception, for the benchmarks: GET /bytes/N streams N zero bytes (a bulk
source; N up to 64 GiB), in 1 MiB writes.
"""
import http.server
import socket
import socketserver
import sys

BULK_PATH = "/bytes/"
BULK_MAX = 64 << 30
ZEROS = memoryview(bytes(1 << 20))


def client_address(addr):
    host = addr[0]
    if host.lower().startswith("::ffff:") and "." in host:
        host = host[len("::ffff:"):]
    return host


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "dind-wan-origin/1"
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        if self.path.startswith(BULK_PATH):
            self.send_bulk(self.path[len(BULK_PATH):])
            return
        body = client_address(self.client_address).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_bulk(self, size):
        if not size.isdigit() or int(size) > BULK_MAX:
            self.send_error(400, "expected /bytes/N with N from 0 to %d" % BULK_MAX)
            return
        left = int(size)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(left))
        self.end_headers()
        try:
            while left > 0:
                chunk = ZEROS[:min(left, len(ZEROS))]
                self.wfile.write(chunk)
                left -= len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()

    def log_message(self, fmt, *args):
        sys.stdout.write("origin: client=%s host=%s %s\n" % (
            client_address(self.client_address),
            self.headers.get("Host", "-") if self.headers else "-",
            fmt % args))
        sys.stdout.flush()


class DualStackServer(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        # HTTPServer.server_bind would look up the host's FQDN, which waits for DNS
        # time-outs in a namespace with no resolver; the name is never used here.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "origin"
        self.server_port = self.server_address[1]


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 80
    server = DualStackServer(("::", port), Handler)
    print("origin: listening on [::]:%d (dual-stack)" % port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
