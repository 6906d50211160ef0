"""TLS certificate reload on SIGHUP without dropping connections.

Opens a TLS connection to the Kafka listener and one to the HTTP listener,
writes a new certificate (new serial) over the files, sends SIGHUP to the
server, waits until a new connection sees the new serial, then uses both old
connections again. Prints one JSON object of observations.

usage: tls_reload.py <pid> <kafka port> <http port> <cert.pem> <key.pem> <new serial>
"""
import json
import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
import time

pid, kafka_port, http_port = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
cert, key, new_serial = sys.argv[4], sys.argv[5], sys.argv[6]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE


def connect(port):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
    der = s.getpeercert(binary_form=True)
    serial = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-serial"],
                            input=der, capture_output=True, check=True).stdout.decode()
    return s, serial.strip().split("=")[1]


def recv_exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data


def api_versions(s, correlation):
    body = struct.pack(">hhih", 18, 0, correlation, -1)
    s.sendall(struct.pack(">i", len(body)) + body)
    size = struct.unpack(">i", recv_exactly(s, 4))[0]
    data = recv_exactly(s, size)
    return struct.unpack(">ih", data[:6])  # correlation id, error code


def healthz(s):
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    return s.recv(4096).split(b"\r\n", 1)[0].decode()


out = {}
k_old, out["kafka_serial_before"] = connect(kafka_port)
h_old, out["http_serial_before"] = connect(http_port)
out["kafka_old_before"] = api_versions(k_old, 1)
out["http_old_before"] = healthz(h_old)
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost", "-set_serial", new_serial],
               capture_output=True, check=True)
os.kill(pid, signal.SIGHUP)
want = "%X" % int(new_serial)
end = time.time() + 15
while time.time() < end:
    k_new, out["kafka_serial_after"] = connect(kafka_port)
    h_new, out["http_serial_after"] = connect(http_port)
    k_new.close()
    h_new.close()
    if out["kafka_serial_after"] == want and out["http_serial_after"] == want:
        break
    time.sleep(0.2)
out["kafka_old_after"] = api_versions(k_old, 2)
out["http_old_after"] = healthz(h_old)
print(json.dumps(out))
