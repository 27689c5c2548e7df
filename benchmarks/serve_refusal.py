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
import shutil
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


def requests(most_tokens, most_texts):
    """[(what is asked, texts, params)]: one the model answers, then one of each refusal."""
    return [("generate 5 tokens", ["the market"], {"length": 5}),
            (f"length {most_tokens + 1:,}", ["the"], {"length": most_tokens + 1}),
            (f"2 texts x length {most_tokens // 2 + 1:,}", ["the", "a"], {"length": most_tokens // 2 + 1}),
            ("temperature 0", ["the"], {"length": 5, "temperature": 0.0}),
            (f"{most_texts + 1:,} texts", ["a"] * (most_texts + 1), {})]


def zoo(folder, *args):
    """python -m zoo ARGS in `folder`, its store there; exits with the command's last line if it fails."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{folder}/mlruns/mlflow.db",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "zoo", *args], cwd=folder, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        sys.exit(f"error: python -m zoo {args[0]} failed ({done.returncode}): {lines[-1] if lines else 'no output'}")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
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


def measure(server, port, log, asked, repeats):
    """The table's rows: each request of `asked` sent `repeats` times to the server on `port`, once
    it answers /ping (at most 180 s); a server that ends or never answers is one line from `log`."""
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2).close()
            if server.poll() is None:  # this server answered, not another one that took the port
                break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            lines = log.read_text(errors="replace").strip().splitlines()
            ended = f"exited with code {server.returncode}" if server.poll() is not None else "gave no answer in 180 s"
            sys.exit(f"error: make serve on 127.0.0.1:{port} {ended}: {lines[-1] if lines else 'no output'}")
        time.sleep(1)
    rows = []
    try:
        ask(port, ["the"], {"length": 1})  # the first request loads what the model loads lazily
        for what, texts, params in tqdm(asked, desc="requests", unit="kind"):
            answers = [ask(port, texts, params) for _ in range(repeats)]
            seconds = [s for _, _, s in answers]
            rows.append({"request": what, "HTTP status": ",".join(sorted({str(a[0]) for a in answers})),
                         "answer": answers[0][1], "median s": round(statistics.median(seconds), 3),
                         "largest s": round(max(seconds), 3)})
    except OSError as error:  # a reset or a timeout: the server's fault, in one line
        sys.exit(f"error: a request to make serve on 127.0.0.1:{port} failed: {error}")
    return rows


def stop(server):
    """Ends make serve's process group (make, mlflow and its workers): SIGTERM, then SIGKILL after 30 s."""
    for sent in (signal.SIGTERM, signal.SIGKILL):  # SIGKILL as well: mlflow's workers can outlive make
        try:
            os.killpg(server.pid, sent)
        except ProcessLookupError:  # the whole group has ended
            break
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="times each request is sent (default 5)")
    args = parser.parse_args(argv)
    if not 1 <= args.repeats <= 1000:
        parser.error(f"--repeats must be from 1 to 1000 (got {args.repeats})")
    if shutil.which("make") is None:
        sys.exit("error: this benchmark serves with `make serve` and finds no make: apt-get install make")
    from zoo import serving  # the bounds the served model enforces

    signal.signal(signal.SIGTERM, lambda *_: sys.exit("error: stopped (SIGTERM); the server was stopped too"))
    with tempfile.TemporaryDirectory() as folder:
        print("training and exporting a small PTB language model ...", flush=True)
        zoo(folder, "train", *TRAIN)
        zoo(folder, "export", "--experiment", "lm", "--format", "mlflow")
        model = next(Path(folder, "exports", "lm").glob("*/mlflow_model"), None)
        if model is None:
            sys.exit(f"error: python -m zoo export wrote no exports/lm/<run>/mlflow_model in {folder}")
        port, log = free_port(), Path(folder, "serve.log")
        with log.open("w") as output:
            server = subprocess.Popen(["make", "-C", str(ROOT), "--no-print-directory", "serve", f"MODEL={model}",
                                       f"SERVE_PORT={port}"], stdout=output, stderr=subprocess.STDOUT,
                                      start_new_session=True)  # make, mlflow and its workers: one process group
        try:
            rows = measure(server, port, log, requests(serving.MAX_LENGTH, serving.MAX_TEXTS), args.repeats)
        finally:
            stop(server)
    table = pd.DataFrame(rows).to_markdown(index=False)
    print(f"\n`make serve` of a 1 x 16 PTB language model, {args.repeats} requests each, on 127.0.0.1\n\n{table}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "serve_refusal.md").write_text(f"{args.repeats} requests each\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
