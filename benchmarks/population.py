"""Virtual populations: 100,000 one-compartment subjects, 3 doses, 100 time points.

    python benchmarks/run.py population

Locally: wall time and peak memory (each measured in a fresh process: its peak resident set
minus the same process's after import and a warm-up call), with trajectories kept and
statistics only; and a million subjects, statistics only, once. On Dask: a LocalCluster of
1 and then 2 worker processes, one thread each (``NUMBA_NUM_THREADS=1``), the same
population: strong-scaling efficiency ``T1 / (2 T2)``.
Medians of three runs each; the cluster runs interleave (1, 2, 1, 2, ...).
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import time

N = 100_000
REPEATS = 3
VARIABILITY = {"CL": 0.3, "V": 0.2}

PROCESS = """
import json, resource, sys, time
import workbench as wb
keep = sys.argv[1] == "keep"
model = wb.OneCompartment(dose=100.0, n_doses=3, interval=24.0, t_end=72.0, n_points=100)
wb.population(model, 1000, {variability}, seed=0, progress=False, keep_trajectories=keep)  # warm
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
result = wb.population(model, {n}, {variability}, seed=1, progress=False, keep_trajectories=keep)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "peak_mib": peak / 1024, "growth_mib": (peak - before) / 1024}}))
"""


def local_run(keep: bool, n: int = N) -> dict:
    code = PROCESS.format(n=n, variability=VARIABILITY)
    out = subprocess.run(
        [sys.executable, "-c", code, "keep" if keep else "stream"], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def cluster_times() -> dict[int, list[float]]:
    from distributed import Client, LocalCluster  # the dask extra

    import workbench as wb

    logging.getLogger("distributed").setLevel(logging.WARNING)  # no start/stop chatter in the table

    model = wb.OneCompartment(dose=100.0, n_doses=3, interval=24.0, t_end=72.0, n_points=100)
    times: dict[int, list[float]] = {1: [], 2: []}
    clusters = {
        workers: LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
        )
        for workers in (1, 2)
    }
    try:
        clients = {workers: Client(cluster) for workers, cluster in clusters.items()}
        for client in clients.values():  # warm the workers: kernels loaded, modules imported
            wb.population(model, 2000, VARIABILITY, seed=0, client=client, progress=False)
        for _ in range(REPEATS):
            for workers, client in clients.items():
                start = time.perf_counter()
                wb.population(model, N, VARIABILITY, seed=1, client=client, progress=False, chunk_size=5000)
                times[workers].append(time.perf_counter() - start)
        for client in clients.values():
            client.close()
    finally:
        for cluster in clusters.values():
            cluster.close()
    return times


def main() -> None:
    print(f"\n## Virtual population: {N:,} one-compartment subjects, 3 doses, 100 time points\n")
    for keep in (True, False):
        runs = [local_run(keep) for _ in range(REPEATS)]
        seconds = statistics.median(r["seconds"] for r in runs)
        growth = statistics.median(r["growth_mib"] for r in runs)
        label = "trajectories kept" if keep else "statistics only (streamed)"
        print(
            f"- local ({os.cpu_count()} cores, numba threads), {label}: {seconds:.2f} s "
            f"({1e6 * seconds / N:.1f} us per subject); peak memory growth {growth:.0f} MiB"
        )
    million = local_run(False, 1_000_000)
    print(
        f"- local, 1,000,000 subjects, statistics only: {million['seconds']:.1f} s; "
        f"peak memory growth {million['growth_mib']:.0f} MiB (the trajectories alone would be 800 MB)"
    )
    try:
        times = cluster_times()
    except ImportError:
        print("- Dask: skipped (pip install 'workbench[dask]')")
        return
    t1, t2 = statistics.median(times[1]), statistics.median(times[2])
    for workers, median in ((1, t1), (2, t2)):
        runs = ", ".join(f"{t:.2f}" for t in times[workers])
        print(f"- Dask LocalCluster, {workers} worker process(es) x 1 thread: {median:.2f} s (runs {runs})")
    print(f"- strong-scaling efficiency 1 -> 2 workers: {t1 / (2 * t2):.0%}")


if __name__ == "__main__":
    main()
