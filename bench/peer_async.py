"""The strongest script a developer could write instead of DeerWeb: the official `replicate` client's
`async_run` (create, then a poll every 0.5 s, the client's default), with at most `--in-flight`
predictions at once (100: the size of httpx's connection pool, which the client keeps), storing
nothing but what it prints at the end.

`python -m bench.peer_async --inputs inputs.json --results results.json --in-flight 100`, with
REPLICATE_API_TOKEN and the simulator's /replicate as `--base-url`. Prints "started" when the
first create is about to go out. The results file holds, per prediction, when it was sent and when
its output was in hand (wall clock), its first output URL or its error, and for the whole run its
CPU time, peak resident memory and the most predictions in flight. Standard library and replicate
only: no Django.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import time
from pathlib import Path
from typing import Any

import replicate


async def _run_all(client: replicate.Client, model: str, inputs: list[dict[str, Any]], in_flight: int) -> dict:
    slots = asyncio.Semaphore(in_flight)
    jobs: list[dict[str, Any]] = [{} for _ in inputs]
    running = peak = 0

    async def one(index: int) -> None:
        nonlocal running, peak
        async with slots:
            running += 1
            peak = max(peak, running)
            job = jobs[index]
            job["sent"] = time.time()
            try:
                output = await client.async_run(model, input=inputs[index])
                first = output[0] if isinstance(output, list) else output
                job["url"] = str(first)
            except Exception as exc:  # the figure is how many succeeded; the reason is kept for the report
                job["error"] = f"{type(exc).__name__}: {exc}"
            job["done"] = time.time()
            running -= 1

    print("started", flush=True)
    started, cpu = time.time(), time.process_time()  # the start-up's imports are not the run's
    await asyncio.gather(*(one(index) for index in range(len(inputs))))
    return {"started": started, "cpu_seconds": time.process_time() - cpu, "peak_in_flight": peak, "jobs": jobs}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.peer_async", description=__doc__)
    parser.add_argument("--base-url", required=True, help="the simulator's /replicate")
    parser.add_argument("--model", required=True)
    parser.add_argument("--inputs", type=Path, required=True, help="a JSON list of inputs, one per prediction")
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--in-flight", type=int, default=100)
    options = parser.parse_args(argv)
    inputs = json.loads(options.inputs.read_text())
    client = replicate.Client(api_token=os.environ["REPLICATE_API_TOKEN"], base_url=options.base_url)
    results = asyncio.run(_run_all(client, options.model, inputs, options.in_flight))
    results["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    options.results.write_text(json.dumps(results))


if __name__ == "__main__":
    main()
