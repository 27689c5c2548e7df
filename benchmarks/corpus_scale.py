"""A language model's corpus at scale: a synthetic corpus of at least --gigabytes (the shared PTB
training text for words, Tiny Shakespeare for characters, repeated) trained for one window twice,
each in a fresh process (zoo.train.run on the whole corpus's data, its pipelines cut to one
window): the first prepares the corpus (counts the vocabulary, writes the ids to the cache,
zoo.data.corpus), the second starts from the cache. Then `python -m zoo train --set limit=1` on
a new cache: a limit cuts the text before it is read, so only that part is prepared.

    python benchmarks/corpus_scale.py                          # 1 GB, words and characters
    python benchmarks/corpus_scale.py --gigabytes 0.1 --level word

Peak memory: the training process's maximum resident set size (getrusage of the child), which
includes TensorFlow itself (about 1 GB before any data). Preparation: the seconds the run
printed for counting the vocabulary and writing the ids (0 from the cache); the rest of the
wall time is Python and TensorFlow starting (about 15 s here), two sha256 passes over the file (the
run's data fingerprint and the cache's name), building the network and the one window. Writes benchmarks/results/corpus_scale.md.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"word": "ptb/ptb.train.txt", "character": "tinyshakespeare/input.txt"}
TRAIN = ["--set=task=lm", "--set=dataset=user", "--set=limit=1", "--set=epochs=1", "--set=cell=lstm",
         "--set=units=32", "--set=batch_size=20", "--set=sequence_length=35", "--set=flow_samples=2",
         "--set=system_metrics=false"]


def synthetic(source, path, size):
    """`source` repeated into `path` until it holds at least `size` bytes."""
    block = source.read_bytes()
    with open(path, "wb") as f, tqdm(total=size, unit="B", unit_scale=True, desc=f"writing {path.name}") as bar:
        written = 0
        while written < size:
            f.write(block)
            written += len(block)
            bar.update(len(block))
    return written


def one_window(corpus, level):
    """The child of a whole-corpus run: the corpus's data prepared whole (no limit), then one window
    trained, validated and tested by zoo.train.run (its pipelines cut to one batch each)."""
    import dataclasses

    sys.path.insert(0, str(ROOT))
    import zoo.program  # noqa: F401  (a program's process settings, before TensorFlow loads)
    from zoo import datasets, train
    from zoo.config import Config, apply_overrides

    config = apply_overrides(Config(), [arg.removeprefix("--set=") for arg in TRAIN if "limit=" not in arg] +
                             [f"data_path={corpus}", f"level={level}"])
    data = datasets.load(config)
    data = dataclasses.replace(data, train=data.train.take(1), val=data.val.take(1), test=data.test.take(1))
    train.run(config, data=data)


def timed_run(folder, command):
    """(wall seconds, preparation seconds, peak resident GB, tokens) of one child process."""
    env = {**os.environ, "ZOO_CACHE_DIR": str(folder / "cache"), "TF_CPP_MIN_LOG_LEVEL": "3",
           "MLFLOW_TRACKING_URI": f"sqlite:///{folder}/mlruns/mlflow.db"}
    with open(folder / "train.log", "w") as log:
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    out = (folder / "train.log").read_text(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"error: the run failed: {out.strip()[-800:]}")
    written = re.search(r"counted and written to the cache in ([0-9.]+) s", out)
    tokens = re.search(r"token ids: train ([0-9,]+)", out).group(1)
    return wall, float(written.group(1)) if written else 0.0, usage.ru_maxrss / 2**20, tokens


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gigabytes", type=float, default=1.0, help="size of each synthetic corpus")
    parser.add_argument("--level", choices=("word", "character", "both"), default="both")
    parser.add_argument("--folder", help="where the corpora and the cache go (default: a temporary folder, removed)")
    parser.add_argument("--one-window", nargs=2, metavar=("CORPUS", "LEVEL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one_window:
        return one_window(*args.one_window)
    sys.path.insert(0, str(ROOT))
    from zoo.data.files import data_dir

    folder = Path(args.folder or tempfile.mkdtemp(prefix="corpus-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for level in ("word", "character") if args.level == "both" else (args.level,):
            corpus = folder / f"corpus-{level}.txt"
            size = synthetic(data_dir() / SOURCES[level], corpus, int(args.gigabytes * 1e9))
            whole = [sys.executable, __file__, "--one-window", str(corpus), level]
            limited = [sys.executable, "-m", "zoo", "train", *TRAIN, f"--set=data_path={corpus}", f"--set=level={level}"]
            for attempt, command in (("first run (prepares)", whole), ("second run (cache)", whole),
                                     ("limit=1, new cache", limited)):
                if command is limited:
                    shutil.rmtree(folder / "cache", ignore_errors=True)
                wall, preparation, peak, tokens = timed_run(folder, command)
                rows.append({"level": level, "corpus": f"{size / 1e9:.2f} GB", "training tokens": tokens,
                             "run": attempt, "wall s": f"{wall:.1f}", "preparation s": f"{preparation:.1f}",
                             "peak memory GB": f"{peak:.2f}"})
                print(rows[-1], flush=True)
            corpus.unlink()
            shutil.rmtree(folder / "cache", ignore_errors=True)
    finally:
        if not args.folder:
            shutil.rmtree(folder, ignore_errors=True)
    table = pd.DataFrame(rows).to_markdown(index=False)
    print(table)
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "corpus_scale.md").write_text(
        f"python benchmarks/corpus_scale.py --gigabytes {args.gigabytes:g} --level {args.level}\n\n{table}\n")


if __name__ == "__main__":
    main()
