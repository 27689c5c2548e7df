"""The PyTorch reference for benchmarks/lm_throughput.py: PyTorch's word-language-model example in
the "small" configuration, written here from its description (nn.Embedding, nn.LSTM / nn.GRU /
nn.RNN(tanh), nn.Linear, cross-entropy over the vocabulary, SGD with clip_grad_norm_, the hidden
state carried from batch to batch and detached).

Needs `torch` (not a project requirement: pip install torch). Reads token-id windows from a .npz
file written by lm_throughput.py (x, y: [windows, batch, steps], vocab) and prints one JSON line
per round: ms per training batch and per evaluation batch. With --parts, one JSON line of the
evaluation's parts instead (benchmarks/lm_eval_parts.py): ms per batch of the embedding and
recurrent layers, and of the output layer with its cross-entropy.

    python benchmarks/peers/torch_lm.py --data windows.npz --cell lstm --rounds 3 --batches 50
"""

import argparse
import json
import statistics
import time

import numpy as np
import torch
from torch import nn


class LanguageModel(nn.Module):
    def __init__(self, cell, vocab, embedding=200, units=200, layers=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embedding)
        recurrent = {"lstm": nn.LSTM, "gru": nn.GRU, "vanilla": nn.RNN}[cell]
        self.rnn = recurrent(embedding, units, layers, batch_first=True)
        self.head = nn.Linear(units, vocab)

    def forward(self, ids, state):
        outputs, state = self.rnn(self.embedding(ids), state)
        return self.head(outputs), state


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--cell", choices=["lstm", "gru", "vanilla"], default="lstm")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: PyTorch's default)")
    parser.add_argument("--parts", action="store_true", help="time the evaluation's parts instead")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    data = np.load(args.data)
    x, y = torch.from_numpy(data["x"]).long(), torch.from_numpy(data["y"]).long()
    model = LanguageModel(args.cell, int(data["vocab"]))
    optimizer = torch.optim.SGD(model.parameters(), lr=20.0)
    loss_fn = nn.CrossEntropyLoss()
    state = None

    def train(windows):
        nonlocal state
        model.train()
        for k in windows:
            optimizer.zero_grad()
            logits, state = model(x[k], state)
            state = detach(state)
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), y[k].reshape(-1))
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            optimizer.step()

    def evaluate(windows):
        model.eval()
        eval_state = None
        with torch.no_grad():
            for k in windows:
                logits, eval_state = model(x[k], eval_state)
                loss_fn(logits.reshape(-1, logits.shape[-1]), y[k].reshape(-1))

    windows = [k % len(x) for k in range(args.batches)]
    if args.parts:
        print(json.dumps(parts(model, x, y, windows, args.rounds)), flush=True)
        return
    train(windows[: args.warmup])
    evaluate(windows[: args.warmup])
    for _ in range(args.rounds):
        start = time.perf_counter()
        train(windows)
        train_ms = (time.perf_counter() - start) * 1000 / len(windows)
        start = time.perf_counter()
        evaluate(windows)
        eval_ms = (time.perf_counter() - start) * 1000 / len(windows)
        print(json.dumps({"train_ms": train_ms, "eval_ms": eval_ms, "threads": torch.get_num_threads()}), flush=True)


def parts(model, x, y, windows, rounds):
    """{"body_ms", "head_ms"}: medians over `rounds` of ms per window of the embedding and recurrent
    layers (state carried), and of the output layer and cross-entropy on their outputs."""
    model.eval()
    loss_fn = nn.CrossEntropyLoss()
    times = {"body_ms": [], "head_ms": []}
    with torch.no_grad():
        for _ in range(rounds + 1):  # the first round warms up
            state, hidden = None, []
            start = time.perf_counter()
            for k in windows:
                outputs, state = model.rnn(model.embedding(x[k]), state)
                hidden.append(outputs)
            body = time.perf_counter() - start
            start = time.perf_counter()
            for k, outputs in zip(windows, hidden):
                logits = model.head(outputs)
                loss_fn(logits.reshape(-1, logits.shape[-1]), y[k].reshape(-1))
            head = time.perf_counter() - start
            times["body_ms"].append(body * 1000 / len(windows))
            times["head_ms"].append(head * 1000 / len(windows))
    return {name: statistics.median(values[1:]) for name, values in times.items()}


if __name__ == "__main__":
    main()
