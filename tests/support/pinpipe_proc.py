"""Starts and stops a `pinpipe` process for the Python peer tests (boto3, AWS CLI, Airflow).

Loopback only; every process is ended by the test that started it.
"""
import os
import signal
import socket
import subprocess
import time
import urllib.request


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Pinpipe:
    """`pinpipe <args>` listening on 127.0.0.1:<port>, its output in <dir>/pinpipe.log."""

    def __init__(self, binary, workdir, args, port=None, timeout=30):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(workdir, f"pinpipe-{self.port}.log")
        self._log = open(self.log_path, "wb")
        argv = [binary] + [a.replace("{port}", str(self.port)) for a in args]
        self.proc = subprocess.Popen(argv, cwd=workdir, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pinpipe exited with {self.proc.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"pinpipe did not answer /healthz in {timeout}s:\n{self.output()}")
            time.sleep(0.1)

    def output(self):
        self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")[-4000:]

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode
