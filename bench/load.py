"""The load generator: ``python -m bench.load`` reads a JSON job on standard input, drives
the server over N keep-alive connections (one thread each, ``http.client``) and prints JSON.

A process of its own so that its Python work never shares a GIL with the bench's, and the
server is measured by a client outside it, as a browser would be. The job::

    {"port": 8123, "seconds": 2.0, "cookie": "tracker_session=…",
     "connections": [[["GET", "/items?s=…", null], …], …],   # the requests of each connection
     "cycle": true, "expect": [200]}

Each connection sends its requests in order (over and over with ``cycle``) until ``seconds``
have passed or, without ``cycle``, its list is done. The answer: requests, seconds from the
common start to the last answer, every latency in ms and the count of each status.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from typing import Any


def drive(job: dict[str, Any]) -> dict[str, Any]:
    port = int(job["port"])
    seconds = float(job["seconds"])
    cycle = bool(job.get("cycle", True))
    headers = {"Cookie": job.get("cookie", ""), "Connection": "keep-alive"}
    plans: list[list[list[Any]]] = job["connections"]
    latencies: list[list[float]] = [[] for _ in plans]
    statuses: list[dict[int, int]] = [{} for _ in plans]
    failures: list[str] = []
    ready = threading.Barrier(len(plans) + 1)
    finished = [0.0] * len(plans)
    deadline = [0.0]

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.connect()
        plan = plans[index]
        mine, counts = latencies[index], statuses[index]
        ready.wait()
        step = 0
        try:
            while plan and time.perf_counter() < deadline[0]:
                if step >= len(plan):
                    if not cycle:
                        break
                    step = 0
                method, path, body = plan[step]
                step += 1
                sent = dict(headers)
                if body is not None:
                    sent["Content-Type"] = "application/x-www-form-urlencoded"
                begin = time.perf_counter()
                connection.request(method, path, body=body, headers=sent)
                response = connection.getresponse()
                response.read()
                mine.append((time.perf_counter() - begin) * 1000)
                counts[response.status] = counts.get(response.status, 0) + 1
                if response.will_close:
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        except (OSError, http.client.HTTPException) as error:
            failures.append(f"{type(error).__name__}: {error}")
        finally:
            finished[index] = time.perf_counter()
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(plans))]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline[0] = started + seconds
    ready.wait()
    started = time.perf_counter()
    deadline[0] = started + seconds
    for thread in threads:
        thread.join()
    elapsed = max(finished) - started
    merged: dict[int, int] = {}
    for counts in statuses:
        for status, count in counts.items():
            merged[status] = merged.get(status, 0) + count
    every = [value for mine in latencies for value in mine]
    return {
        "requests": len(every),
        "seconds": elapsed,
        "latencies_ms": every,
        "statuses": {str(k): v for k, v in sorted(merged.items())},
        "failures": failures,
    }


def main() -> int:
    """One job, or ``{"rounds": [job, …]}``: the jobs one after the other (the measure and
    its baseline interleaved, without starting a process for each)."""
    job = json.load(sys.stdin)
    if "rounds" in job:
        json.dump([drive(one) for one in job["rounds"]], sys.stdout)
    else:
        json.dump(drive(job), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
