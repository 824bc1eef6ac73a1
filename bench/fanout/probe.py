#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Is the server still answering while it fans out? Run next to bench/fanout/run.sh:

    bench/fanout/probe.py DELAY_S DURATION_S ARALDO_BIN

Waits for the araldo started from ARALDO_BIN to listen, sleeps DELAY_S (the subscribers connect
meanwhile), then for DURATION_S sends GET /healthz every 5 ms, each on a new connection (so
both loops get probes), and prints the latency percentiles and the probes over 10 ms with
their time. Loopback only."""
import os
import re
import socket
import subprocess
import sys
import time


def find_port(binary, wait_s=120):
    deadline = time.time() + wait_s
    while time.time() < deadline:
        out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            port = re.search(r"127\.0\.0\.1:(\d+)", line)
            pid = re.search(r"pid=(\d+)", line)
            if not port or not pid:
                continue
            try:
                if os.readlink(f"/proc/{pid.group(1)}/exe") == binary:
                    return int(port.group(1))
            except OSError:
                continue
        time.sleep(0.02)
    sys.exit("probe: the server never listened")


def main():
    delay, duration, binary = float(sys.argv[1]), float(sys.argv[2]), os.path.realpath(sys.argv[3])
    port = find_port(binary)
    time.sleep(delay)
    lat, slow, t_start = [], [], time.time()
    while time.time() < t_start + duration:
        t0 = time.perf_counter()
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
            while s.recv(4096):
                pass
            s.close()
        except ConnectionRefusedError:
            break  # the server is gone
        except OSError:
            continue
        ms = (time.perf_counter() - t0) * 1000
        lat.append(ms)
        if ms > 10:
            slow.append((round(time.time() - t_start, 2), round(ms, 1)))
        time.sleep(0.005)
    if not lat:
        sys.exit("probe: no answer")
    lat.sort()
    n = len(lat)
    print(f"probes {n} over {time.time() - t_start:.1f} s: p50 {lat[n // 2]:.2f} ms, "
          f"p99 {lat[int(n * 0.99)]:.2f} ms, max {lat[-1]:.2f} ms; {len(slow)} over 10 ms "
          f"(s, ms): {slow[:20]}")


main()
