#!/usr/bin/env python3
"""A fault-injecting HTTP proxy between labrun and moto_server.

labrun talks to it through AWS_ENDPOINT_URL; it forwards every call to the
upstream emulator after a set latency, and at a set rate injects one of:

  503       HTTP 503 in the service's error shape (EC2 `Unavailable`,
            S3 `ServiceUnavailable`, ELBv2 `ServiceUnavailable`)
  500       HTTP 500 (`InternalError` / `InternalFailure`)
  throttle  EC2 `RequestLimitExceeded` (503), S3 `SlowDown` (503),
            ELBv2 `Throttling` (400)
  reset     the connection is reset (RST) before the call is forwarded
  lost      the call is forwarded and acted on, then the connection is
            reset instead of answering

Whether call k of an action is faulted, and how, is a function of the seed,
the service, the action and k, so a run that makes the same calls per action
meets the same faults whatever the interleaving of parallel calls.

EC2 calls that carry a ClientToken get AWS's idempotency, which moto lacks
for several actions: a second call with the same action and token replays
the first successful answer without reaching moto, or fails with
`IdempotentParameterMismatch` if its other parameters differ. A replay
meets faults like any other call (its answer can be lost too, as on AWS).

Each call is logged as one JSON line to --log:
  {"n": 7, "service": "ec2", "action": "CreateVpc", "fault": "lost",
   "status": 200, "replayed": false, "forwarded": true}
`fault` is null for a clean call; `status` is what moto answered (null when
the call never reached it); `forwarded` says whether moto acted on it.

On start it prints `listening http://127.0.0.1:PORT` on stdout.
Python 3 standard library only.
"""

import argparse
import hashlib
import http.client
import http.server
import json
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid

FAULTS = ("503", "500", "throttle", "reset", "lost")

# (status, code, message) per service and fault.
ERRORS = {
    "ec2": {
        "503": (503, "Unavailable", "The server is overloaded and can't handle the request."),
        "500": (500, "InternalError", "An internal error has occurred."),
        "throttle": (503, "RequestLimitExceeded", "Request limit exceeded."),
    },
    "s3": {
        "503": (503, "ServiceUnavailable", "Service is unable to handle request."),
        "500": (500, "InternalError", "We encountered an internal error. Please try again."),
        "throttle": (503, "SlowDown", "Please reduce your request rate."),
    },
    "elasticloadbalancing": {
        "503": (503, "ServiceUnavailable", "Service Unavailable"),
        "500": (500, "InternalFailure", "An internal error has occurred."),
        "throttle": (400, "Throttling", "Rate exceeded"),
    },
}

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-connection", "transfer-encoding",
    "te", "trailer", "upgrade", "expect", "content-length",
}


def error_body(service, code, message, request_id):
    """The XML error document `service` answers with."""
    if service == "s3":
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            f"<RequestId>{request_id}</RequestId><HostId>fault-proxy</HostId></Error>"
        )
    if service == "elasticloadbalancing":
        kind = "Sender" if code == "Throttling" else "Receiver"
        return (
            '<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">'
            f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
        f"<RequestID>{request_id}</RequestID></Response>"
    )


def service_of(headers):
    """The signing service named in the SigV4 Authorization header."""
    auth = headers.get("Authorization", "")
    for part in auth.replace(",", " ").split():
        if part.startswith("Credential="):
            scope = part[len("Credential="):].split("/")
            if len(scope) >= 4:
                return scope[3]
    return "unknown"


def action_of(method, target, params):
    """The API action: `Action=` of the query protocols (EC2, ELBv2), else for
    S3 the method, what the path names and its sub-resources, e.g.
    `PUT bucket?tagging` or `DELETE object`."""
    if "Action" in params:
        return params["Action"]
    url = urllib.parse.urlsplit(target)
    parts = url.path.strip("/").split("/", 1)
    what = "object" if len(parts) == 2 and parts[1] else "bucket" if parts[0] else "service"
    subs = sorted(k for k, _ in urllib.parse.parse_qsl(url.query, keep_blank_values=True)
                  if k not in ("x-id",))
    return f"{method} {what}" + ("?" + "&".join(subs) if subs else "")


class Faults:
    """The seeded fault plan and the ClientToken memory shared by all handlers."""

    def __init__(self, rate, seed, kinds):
        self.rate = rate
        self.seed = seed
        self.kinds = kinds
        self.lock = threading.Lock()
        self.per_action = {}
        self.calls = 0
        self.tokens = {}  # (action, token) -> (params, status, headers, body)
        self.token_locks = {}

    def next(self, service, action):
        """(call number, fault or None) for the next call of `action`."""
        with self.lock:
            self.calls += 1
            key = (service, action)
            k = self.per_action.get(key, 0)
            self.per_action[key] = k + 1
            n = self.calls
        digest = hashlib.sha256(f"{self.seed}:{service}:{action}:{k}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        if draw >= self.rate or not self.kinds:
            return n, None
        pick = int.from_bytes(digest[8:16], "big") % len(self.kinds)
        return n, self.kinds[pick]

    def token_lock(self, key):
        with self.lock:
            return self.token_locks.setdefault(key, threading.Lock())


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault-proxy"
    # Headers and body go out in two writes: without this, Nagle's algorithm
    # and the client's delayed ACK add 40 ms to every answer.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, socket.timeout):
            self.close_connection = True

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def reset(self):
        """Abort the connection with a TCP RST."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def answer(self, status, headers, body):
        self.send_response_only(status)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def forward(self, body):
        up = self.server.upstream
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=300)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def serve(self):
        body = self.read_body()
        service = service_of(self.headers)
        params = {}
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            params = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        action = action_of(self.command, self.path, params)
        faults = self.server.faults
        n, fault = faults.next(service, action)
        entry = {"n": n, "service": service, "action": action, "fault": fault,
                 "status": None, "replayed": False, "forwarded": False}
        try:
            if self.server.latency:
                time.sleep(self.server.latency)
            if fault == "reset":
                self.reset()
                return
            if fault in ERRORS.get(service, ERRORS["ec2"]):
                status, code, message = ERRORS.get(service, ERRORS["ec2"])[fault]
                payload = error_body(service, code, message, uuid.uuid4()).encode()
                self.answer(status, [("Content-Type", "text/xml")], payload)
                return
            token = params.get("ClientToken") if service == "ec2" else None
            if token:
                status, headers, payload = self.idempotent(action, token, params, body, entry)
            else:
                status, headers, payload = self.forward(body)
                entry["forwarded"] = True
            entry["status"] = status
            if fault == "lost":
                self.reset()
                return
            self.answer(status, headers, payload)
        finally:
            self.server.log(entry)

    def idempotent(self, action, token, params, body, entry):
        """AWS's ClientToken semantics on top of the upstream."""
        faults = self.server.faults
        key = (action, token)
        others = {k: v for k, v in params.items() if k != "ClientToken"}
        with faults.token_lock(key):
            seen = faults.tokens.get(key)
            if seen is not None:
                entry["replayed"] = True
                if seen[0] != others:
                    message = f"The client token {token} was used with different parameters."
                    payload = error_body("ec2", "IdempotentParameterMismatch", message, uuid.uuid4())
                    return 400, [("Content-Type", "text/xml")], payload.encode()
                return seen[1:]
            status, headers, payload = self.forward(body)
            entry["forwarded"] = True
            if 200 <= status < 300:
                faults.tokens[key] = (others, status, headers, payload)
            return status, headers, payload

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = serve


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # labrun opens up to --parallelism connections at once; a short listen
    # backlog would drop SYNs and add 1 s retransmits to the timings.
    request_queue_size = 128

    def __init__(self, address, upstream, faults, latency, log_path):
        super().__init__(address, Handler)
        self.upstream = urllib.parse.urlsplit(upstream)
        self.faults = faults
        self.latency = latency
        self.log_lock = threading.Lock()
        self.log_file = open(log_path, "a", buffering=1) if log_path else None

    def log(self, entry):
        if self.log_file:
            with self.log_lock:
                self.log_file.write(json.dumps(entry) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--upstream", required=True, help="the emulator, e.g. http://127.0.0.1:5000")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    p.add_argument("--rate", type=float, default=0.0, help="share of calls faulted, 0..1")
    p.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every call")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--faults", default=",".join(FAULTS), help="kinds to inject, comma-separated")
    p.add_argument("--log", help="file the calls are appended to, one JSON line each")
    args = p.parse_args()
    kinds = [k for k in args.faults.split(",") if k]
    unknown = set(kinds) - set(FAULTS)
    if unknown:
        p.error(f"unknown fault kinds {sorted(unknown)}; known: {', '.join(FAULTS)}")
    server = Server(("127.0.0.1", args.port), args.upstream, Faults(args.rate, args.seed, kinds),
                    args.latency_ms / 1000.0, args.log)
    print(f"listening http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
