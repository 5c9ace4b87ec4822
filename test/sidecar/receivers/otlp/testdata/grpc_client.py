"""A gRPC C-core client (grpcio, the transport of the Python, Ruby, C++ and PHP OTel SDKs).

Usage: grpc_client.py PORT PATH COMPRESSION TIMEOUT_S COUNT < request-bytes
Sends COUNT unary calls of the request bytes on one channel, concurrently, with COMPRESSION
(none, gzip, deflate) and a deadline of TIMEOUT_S seconds; prints one JSON line per call:
{"code": "OK" | status name, "details": str, "statusDetails": base64 of the
grpc-status-details-bin trailer, as C-core decoded it, or absent}.
"""
import base64
import json
import sys

import grpc


def main():
    port, path, compression, timeout, count = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
    request = sys.stdin.buffer.read()
    algo = {"none": grpc.Compression.NoCompression, "gzip": grpc.Compression.Gzip, "deflate": grpc.Compression.Deflate}[compression]
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        method = channel.unary_unary(path, request_serializer=None, response_deserializer=None)
        futures = [method.future(request, timeout=timeout, compression=algo) for _ in range(count)]
        for f in futures:
            try:
                f.result()
                print(json.dumps({"code": "OK", "details": ""}))
            except grpc.RpcError as e:
                out = {"code": e.code().name, "details": e.details() or ""}
                for key, value in e.trailing_metadata() or ():
                    if key == "grpc-status-details-bin":
                        out["statusDetails"] = base64.b64encode(value).decode()
                print(json.dumps(out))


main()
