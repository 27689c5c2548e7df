"""How fast `make serve` refuses a request whose work has no bound, beside one it answers.

A small language model is trained on a slice of PTB in a new store (python -m zoo train), exported
(python -m zoo export: its MLflow model) and served with `make serve MODEL=<that model>
SERVE_PORT=<a free port>` on 127.0.0.1. Each request is sent --repeats times; the table gives the
HTTP status, the first line of the answer and the median and largest seconds to the whole answer.
The target (issue "Team-grade", goal 2): a refusal within a second.

    python benchmarks/serve_refusal.py
    python benchmarks/serve_refusal.py --repeats 20

Writes benchmarks/results/serve_refusal.md.
"""

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["--set", "task=lm", "--set", "dataset=ptb", "--set", "limit=40", "--set", "epochs=1", "--set", "units=16",
         "--set", "embedding_size=16", "--set", "layers=1", "--set", "batch_size=20", "--set", "sequence_length=35"]
MAX_LENGTH, MAX_TEXTS = 10_000, 1_000  # zoo.serving's bounds (importing it would load TensorFlow here)
# (what is asked, texts, params): one answered, then one of each refusal
REQUESTS = [("generate 5 tokens", ["the market"], {"length": 5}),
            (f"length {MAX_LENGTH + 1:,}", ["the"], {"length": MAX_LENGTH + 1}),
            (f"2 texts x length {MAX_LENGTH // 2 + 1:,}", ["the", "a"], {"length": MAX_LENGTH // 2 + 1}),
            ("temperature 0", ["the"], {"length": 5, "temperature": 0.0}),
            (f"{MAX_TEXTS + 1:,} texts", ["a"] * (MAX_TEXTS + 1), {})]


def zoo(folder, *args):
    """python -m zoo ARGS in `folder`, its store there; exits with the command's last line if it fails."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{folder}/mlruns/mlflow.db",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "zoo", *args], cwd=folder, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"error: python -m zoo {args[0]} failed ({done.returncode}): "
                 f"{(done.stderr or done.stdout).strip().splitlines()[-1:]}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(port, texts, params):
    """(HTTP status, first line of the answer, seconds) of one POST /invocations."""
    body = json.dumps({"dataframe_split": {"columns": ["text"], "data": [[t] for t in texts]},
                       **({"params": params} if params else {})}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                     headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            status, text = answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    seconds = time.perf_counter() - start
    try:
        answer = json.loads(text)
    except ValueError:
        return status, text.strip()[:90], seconds
    if "predictions" in answer:  # what was generated, else how many predictions came
        first = answer["predictions"][0] if answer["predictions"] else {}
        said = repr(first["generated"]) if "generated" in first else f"{len(answer['predictions'])} predictions"
    else:  # MLflow's message names the data, then the model's own error after "Error: "
        said = str(answer.get("message", text)).rsplit("Error: ", 1)[-1].strip().splitlines()[0]
    return status, said[:110], seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="times each request is sent (default 5)")
    args = parser.parse_args(argv)
    if not 1 <= args.repeats <= 1000:
        parser.error(f"Received an invalid value for argument `--repeats`, expected 1 to 1000, got {args.repeats}")
    with tempfile.TemporaryDirectory() as folder:
        print("training and exporting a small PTB language model ...", flush=True)
        zoo(folder, "train", *TRAIN)
        zoo(folder, "export", "--experiment", "lm", "--format", "mlflow")
        model = next(Path(folder, "exports", "lm").glob("*/mlflow_model"))
        port = free_port()
        server = subprocess.Popen(["make", "-C", str(ROOT), "--no-print-directory", "serve", f"MODEL={model}",
                                   f"SERVE_PORT={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)  # make, mlflow and its workers: one process group
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2).close()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        sys.exit(f"error: make serve did not answer on 127.0.0.1:{port} within 180 s")
                    time.sleep(1)
            ask(port, ["the"], {"length": 1})  # the first request loads what the model loads lazily
            rows = []
            for what, texts, params in tqdm(REQUESTS, desc="requests", unit="kind"):
                answers = [ask(port, texts, params) for _ in range(args.repeats)]
                seconds = [s for _, _, s in answers]
                rows.append({"request": what, "HTTP status": ",".join(sorted({str(a[0]) for a in answers})),
                             "answer": answers[0][1], "median s": round(statistics.median(seconds), 3),
                             "largest s": round(max(seconds), 3)})
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    table = pd.DataFrame(rows).to_markdown(index=False)
    print(f"\n`make serve` of a 1 x 16 PTB language model, {args.repeats} requests each, on 127.0.0.1\n\n{table}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "serve_refusal.md").write_text(f"{args.repeats} requests each\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
