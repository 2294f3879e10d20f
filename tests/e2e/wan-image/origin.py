#!/usr/bin/env python3
"""HTTP origin of the simulated Internet.

Listens on [::]:PORT with IPV6_V6ONLY off (so IPv4 clients arrive as
::ffff:a.b.c.d) and answers every GET with 200 and the client's address as
seen by the server, IPv4-mapped prefix stripped. Logs each request to stdout.

Exceptions (a query string is ignored, but logged):
- GET /bytes/N streams N zero bytes (a bulk source for the benchmarks; N up to
  64 GiB), in 1 MiB writes.
- GET /pattern/N streams N bytes that are not constant (a fixed pseudo-random
  MiB, repeated), with their SHA-256 in the X-Body-SHA256 header, so a client
  can check that the body arrived whole and in order.
- PUT or POST (any path) reads the body (Content-Length) and answers
  "bytes=N sha256=HEX" of what it received.

It also echoes UDP datagrams on port 7 (the echo service), logging each as
"udp-echo: client=A bytes=N". Nothing listens on UDP port 9.
"""
import hashlib
import http.server
import random
import socket
import socketserver
import sys
import threading

BULK_PATH = "/bytes/"
PATTERN_PATH = "/pattern/"
BULK_MAX = 64 << 30
PATTERN_MAX = 1 << 30
ZEROS = memoryview(bytes(1 << 20))
PATTERN = memoryview(random.Random(12).randbytes(1 << 20))
UDP_ECHO_PORT = 7


def client_address(addr):
    host = addr[0]
    if host.lower().startswith("::ffff:") and "." in host:
        host = host[len("::ffff:"):]
    return host


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "dind-wan-origin/1"
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path.startswith(BULK_PATH):
            self.send_bulk(path[len(BULK_PATH):])
            return
        if path.startswith(PATTERN_PATH):
            self.send_pattern(path[len(PATTERN_PATH):])
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

    def send_pattern(self, size):
        if not size.isdigit() or int(size) > PATTERN_MAX:
            self.send_error(400, "expected /pattern/N with N from 0 to %d" % PATTERN_MAX)
            return
        total = int(size)
        digest = hashlib.sha256()
        left = total
        while left > 0:
            chunk = PATTERN[:min(left, len(PATTERN))]
            digest.update(chunk)
            left -= len(chunk)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(total))
        self.send_header("X-Body-SHA256", digest.hexdigest())
        self.end_headers()
        left = total
        try:
            while left > 0:
                chunk = PATTERN[:min(left, len(PATTERN))]
                self.wfile.write(chunk)
                left -= len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_PUT(self):
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.send_error(411, "a Content-Length is needed")
            return
        left = int(length)
        digest = hashlib.sha256()
        received = 0
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 16))
            if not chunk:
                break
            digest.update(chunk)
            received += len(chunk)
            left -= len(chunk)
        body = ("bytes=%d sha256=%s" % (received, digest.hexdigest())).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT

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


def udp_echo(sock):
    while True:
        data, peer = sock.recvfrom(65535)
        sock.sendto(data, peer)
        print("udp-echo: client=%s bytes=%d" % (client_address(peer), len(data)), flush=True)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 80
    # Bound before the HTTP server listens: the tests wait for that.
    udp = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    udp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    udp.bind(("::", UDP_ECHO_PORT))
    print("udp-echo: listening on [::]:%d (dual-stack)" % UDP_ECHO_PORT, flush=True)
    threading.Thread(target=udp_echo, args=(udp,), daemon=True).start()
    server = DualStackServer(("::", port), Handler)
    print("origin: listening on [::]:%d (dual-stack)" % port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
