"""A gRPC C-core server (grpcio, the transport of the Python, C++ and Ruby servers) for exporter tests.

Usage: grpc_server.py PORT MAX_CONCURRENT_STREAMS COMPRESSION [CERT KEY]
Serves every method as raw bytes. Prints {"port": N} once listening, then one JSON line per call:
{"path": str, "bytes": base64 of the request, "metadata": {name: value}}. SIGTERM stops the server
gracefully (GOAWAY; calls in flight get 2 s) and exits 0.

The reply is chosen by the request's `x-reply` metadata:
  ok (default)           OK; the response is an ExportTraceServiceResponse whose partial_success
                         reports rejected = the request's length and error_message "got N bytes"
  empty                  OK with an empty response
  unavailable, invalid   UNAVAILABLE / INVALID_ARGUMENT, message "scripted: a b%c"
  exhausted              RESOURCE_EXHAUSTED "Received message larger than max (N vs. 1000)"
  exhausted-retry        RESOURCE_EXHAUSTED with RetryInfo (1.5 s) in grpc-status-details-bin
  slow                   OK with an empty response, after 200 ms
"""
import base64
import json
import signal
import sys
import threading
import time
from concurrent import futures

import grpc


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field(num, payload):
    return varint((num << 3) | 2) + varint(len(payload)) + payload


def partial_success(rejected, message):
    inner = varint(1 << 3) + varint(rejected) + field(2, message.encode())
    return field(1, inner)


def status_with_retry_info(code, message, seconds, nanos):
    duration = varint(1 << 3) + varint(seconds) + varint(2 << 3) + varint(nanos)
    any_ = field(1, b"type.googleapis.com/google.rpc.RetryInfo") + field(2, field(1, duration))
    return varint(1 << 3) + varint(code) + field(2, message.encode()) + field(3, any_)


lock = threading.Lock()


def emit(obj):
    with lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def handle(path):
    def unary(request, context):
        md = {k: (base64.b64encode(v).decode() if isinstance(v, bytes) else v) for k, v in context.invocation_metadata()}
        emit({"path": path, "bytes": base64.b64encode(request).decode(), "metadata": md})
        reply = md.get("x-reply", "ok")
        if reply == "empty":
            return b""
        if reply == "slow":
            time.sleep(0.2)
            return b""
        if reply == "unavailable":
            context.abort(grpc.StatusCode.UNAVAILABLE, "scripted: a b%c")
        if reply == "invalid":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "scripted: a b%c")
        if reply == "exhausted":
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, f"Received message larger than max ({len(request)} vs. 1000)")
        if reply == "exhausted-retry":
            context.set_trailing_metadata((("grpc-status-details-bin", status_with_retry_info(8, "slow down", 1, 500_000_000)),))
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down")
        return partial_success(len(request), f"got {len(request)} bytes")

    return grpc.unary_unary_rpc_method_handler(unary)


class Handler(grpc.GenericRpcHandler):
    def service(self, details):
        return handle(details.method)


def main():
    port, streams, compression = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    options = [("grpc.max_concurrent_streams", streams)] if streams > 0 else []
    algo = grpc.Compression.Gzip if compression == "gzip" else grpc.Compression.NoCompression
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), handlers=[Handler()], options=options, compression=algo)
    if len(sys.argv) > 5:
        with open(sys.argv[4], "rb") as f:
            cert = f.read()
        with open(sys.argv[5], "rb") as f:
            key = f.read()
        bound = server.add_secure_port(f"127.0.0.1:{port}", grpc.ssl_server_credentials([(key, cert)]))
    else:
        bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    emit({"port": bound})
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    server.stop(2).wait()


main()
