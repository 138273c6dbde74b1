#!/usr/bin/env python3
"""Stands in for a kube-apiserver's /readyz, where no kube-apiserver binary
can run: HTTPS on 127.0.0.1:PORT with the node's own serving certificate and
key (as the lab made them), answering GET /readyz with 200 "ok" and anything
else with 404. Prints "listening" once it accepts connections.

usage: readyz.py PORT CERT KEY
"""
import http.server
import ssl
import sys


class Readyz(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ready = self.path == "/readyz"
        body = b"ok" if ready else b"not found"
        self.send_response(200 if ready else 404)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Readyz)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print("listening", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
