"""The same sweep with the local executor and on Ray (one local node with all CPUs, two local
nodes with half each): wall time, the training time inside the runs, and what each trial pays on
top (Ray: a worker process, TensorFlow's import, scheduling, the store reached from the worker).

    python benchmarks/cluster_overhead.py                 # 4 runs of the adding task, 3 epochs each
    python benchmarks/cluster_overhead.py --set epochs=5 --grid seed=0,1,2,3

overhead per trial = (wall time x runs at once - the runs' train_seconds) / runs: the time a run
slot spends on anything but training, the sweep's fixed start (Ray's workers importing TensorFlow)
spread over its runs. Split from the store's run start and end times: "until the first run" (the
command's start to its first run: imports, Ray, Tune, a worker) and "per run once going" (per run,
a slot's wait since its previous run ended plus the run's time outside train_seconds: evaluation,
figures, the logged model; the local executor pays those too). On a 2-core machine two nodes cannot be faster than one
(the same two cores); a real cluster adds cores, and each trial still pays this overhead.
Writes benchmarks/results/cluster_overhead.md.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from tqdm import tqdm

SWEEP = ["--grid", "cell=vanilla,gru", "--grid", "seed=0,1", "--set", "task=adding", "--set", "examples=4000",
         "--set", "sequence_length=50", "--set", "units=32", "--set", "epochs=3"]


def timed_sweep(folder, extra, slots):
    """Wall seconds of `python -m zoo sweep` in a new store in `folder`, and its runs' train_seconds."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{folder}/mlruns/mlflow.db"}
    start = pd.Timestamp.now(tz="UTC")
    clock = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "zoo", "sweep", *SWEEP, *extra], cwd=folder, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - clock
    if done.returncode != 0:
        sys.exit(f"error: the sweep failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-500:]}")
    os.environ["MLFLOW_TRACKING_URI"] = env["MLFLOW_TRACKING_URI"]
    from zoo import tracking

    runs = tracking.runs("adding")
    runs = runs[runs["tags.mlflow.parentRunId"].notna()]
    return wall, runs["metrics.train_seconds"].sum(), len(runs), timeline(runs, start, slots)


def timeline(runs, start, slots):
    """(seconds from the command's start to its first run's start, mean seconds a run slot spends
    per run on anything but training once runs go: the wait since the slot's previous run ended,
    or since the first run started for a slot's first run, plus the run's own time outside
    train_seconds). The `slots` are simulated from the runs' start and end times: a run takes the
    slot that became free last before it started, else the one that became free first."""
    started = runs["start_time"].map(lambda t: t.timestamp()).to_numpy()
    ended = runs["end_time"].map(lambda t: t.timestamp()).to_numpy()
    trained = runs["metrics.train_seconds"].to_numpy()
    order = started.argsort()
    free = [started[order[0]]] * slots  # when each slot became free: all of them at the first run's start
    costs = []
    for i in order:
        ready = [t for t in free if t <= started[i] + 0.5]  # 0.5 s: the store's clock against Tune's
        taken = max(ready) if ready else min(free)
        free.remove(taken)
        costs.append(max(0.0, started[i] - taken) + (ended[i] - started[i]) - trained[i])
        free.append(ended[i])
    return started[order[0]] - start.timestamp(), sum(costs) / len(costs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--grid", action="append", default=[], metavar="FIELD=V1,V2")
    args = parser.parse_args(argv)
    SWEEP.extend([item for value in args.set for item in ("--set", value)] +
                 [item for value in args.grid for item in ("--grid", value)])
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # every node on 127.0.0.1 (as zoo.cluster and the tests)
    from ray.cluster_utils import Cluster

    node = {"node_ip_address": "127.0.0.1", "include_dashboard": False}

    cpus = os.cpu_count()
    setups = [("local executor", 1, None), ("Ray, 1 node", cpus, [cpus]),
              ("Ray, 2 nodes", cpus, [cpus // 2, cpus - cpus // 2])]
    rows = []
    for name, slots, nodes in tqdm(setups, desc="executors", unit="sweep"):
        with tempfile.TemporaryDirectory() as folder:
            if nodes is None:
                wall, trained, runs, (first, per_run) = timed_sweep(folder, [], slots)
            else:
                cluster = Cluster(initialize_head=True, head_node_args={**node, "num_cpus": nodes[0]})
                try:
                    for more in nodes[1:]:
                        cluster.add_node(**node, num_cpus=more)
                    cluster.wait_for_nodes(timeout=60)
                    wall, trained, runs, (first, per_run) = timed_sweep(
                        folder, ["--executor", "ray", "--address", cluster.address], slots)
                finally:
                    cluster.shutdown()
        rows.append({"executor": name, "runs": runs, "runs at once": slots, "wall s": round(wall, 1),
                     "train_seconds, all runs": round(trained, 1),
                     "overhead per trial s": round((wall * slots - trained) / runs, 1),
                     "until the first run s": round(first, 1), "per run once going s": round(per_run, 1)})
    table = pd.DataFrame(rows).to_markdown(index=False)
    print(f"\n{' '.join(SWEEP)} on {cpus} CPUs\n\n{table}")
    out = Path("benchmarks/results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "cluster_overhead.md").write_text(f"`{' '.join(SWEEP)}` on {cpus} CPUs\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
