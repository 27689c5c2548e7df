"""Starting a run from a finished one (config.init_from): pretrain a language model, fine-tune a
classifier or a tagger (Dai & Le 2015; ULMFiT, Howard & Ruder 2018).

    python -m zoo train --set task=lm --set dataset=imdb_text --set cell=lstm ...          # run A
    python -m zoo train --set task=sentiment --set dataset=imdb --set cell=lstm ... --set init_from=A \\
        --set freeze_epochs=1 --set pretrained_lr_scale=0.3

The new run takes the source run's embedding and sequence layers (by position; cell, units,
layers and embedding size must match) and its tokenizer's vocabulary, so that id i means the
same word in both; its head is new. A bidirectional network takes its forward halves from
init_from (a language model reading forwards) and its backward halves from init_from_backward
(one trained with reverse=true), or starts the backward halves fresh and says so. Any mismatch is
one line naming the field and both values, before anything is logged.

Training: for the first `freeze_epochs` epochs only the new layers learn; after that the carried
layers move by `pretrained_lr_scale` of what the optimizer asks (zoo.layers.GradientMonitor), a
smaller learning rate than the head's. The run logs its sources as params (init_from...) and as
MLflow 3 model inputs (the source runs' logged models), tag `pretrained` = the source run ids.
"""

import functools
from dataclasses import dataclass

from zoo import cells, tracking
from zoo.errors import UserError

MATCHED = ("cell", "units", "layers", "embedding_size")  # what must be equal for the layers to fit


@dataclass(frozen=True)
class Source:
    """A finished run the new one starts from: its configuration (dict), tokenizer and network."""

    run_id: str
    config: dict
    tokenizer: object  # zoo.text.Tokenizer of its tokens
    net: object  # keras.Model

    @property
    def bidirectional(self):
        return bool(self.config.get("bidirectional"))


@functools.lru_cache(maxsize=4)
def source(run_id):
    """The Source of FINISHED run `run_id` (a one-line UserError otherwise)."""
    config, tokenizers, net = tracking.load_run(run_id)
    if "tokens" not in tokenizers:
        raise UserError(f"Invalid init_from {run_id}: the run reads no tokens (it has no tokens tokenizer); pick a "
                        "run of a token task (sentiment, pos, lm).")
    return Source(run_id, config, tokenizers["tokens"], net)


def _mismatch(field, run_id, theirs, ours, use):
    return UserError(f"Invalid init_from {run_id}: {field} differs (that run: {theirs!r}, this run: {ours!r}); "
                     f"{use}.")


def sources(config):
    """(forward Source, backward Source or None) of `config`, each checked against it; raises the
    one-line UserError of the first mismatch."""
    if not config.init_from:
        return None, None
    forward = source(config.init_from)
    backward = source(config.init_from_backward) if config.init_from_backward else None
    for found in (forward, backward):
        if found is None:
            continue
        for field in MATCHED:
            if found.config.get(field) != getattr(config, field):
                raise _mismatch(field, found.run_id, found.config.get(field), getattr(config, field),
                                f"set --set {field}={found.config.get(field)} or pick another run")
        if len(cells.CELLS[config.cell].activations) > 1 and found.config.get("activation") != config.activation:
            raise _mismatch("activation", found.run_id, found.config.get("activation"), config.activation,
                            f"set --set activation={found.config.get('activation')}")
        if found.bidirectional and not config.bidirectional:
            raise _mismatch("bidirectional", found.run_id, True, False, "set --set bidirectional=true")
    if forward.config.get("reverse"):
        raise _mismatch("reverse", forward.run_id, True, False, "a language model of reversed text starts the "
                        "backward halves: pass it as init_from_backward")
    if backward is not None:
        if backward.bidirectional or not backward.config.get("reverse"):
            raise UserError(f"Invalid init_from_backward {backward.run_id}: expected a one-way language model "
                            f"trained with reverse=true (that run: bidirectional={backward.bidirectional}, "
                            f"reverse={bool(backward.config.get('reverse'))}).")
        if forward.bidirectional:
            raise UserError(f"Invalid init_from_backward with init_from {forward.run_id}: that run is "
                            "bidirectional and gives both halves already; leave init_from_backward empty.")
    return forward, backward


def check(config):
    """Raises the one-line UserError of a mismatch (run, cell, size, dataset level) without
    loading data: what train and sweep check before they log anything."""
    forward, backward = sources(config)
    if forward is None:
        return
    from zoo import datasets

    level = datasets.get(config).level
    for found in (forward, backward):
        if found is not None and found.tokenizer.level != level:
            raise _mismatch("tokenizer level", found.run_id, found.tokenizer.level, level,
                            f"pick a run of a {level}-level dataset")


def vocabulary(config, tokenizer, texts=None, tokens=None, counts=None):
    """`tokenizer` (a task's, without vocabulary) with its vocabulary: adapted to the training
    `texts`, `tokens` or token `counts`, or, with init_from, the source run's tokens
    (zoo.text.Tokenizer.adopt)."""
    if not config.init_from:
        return tokenizer.adapt(texts, max_tokens=config.max_vocab, tokens=tokens, counts=counts)
    forward = source(config.init_from)
    for field in ("level", "standardize"):
        if getattr(forward.tokenizer, field) != getattr(tokenizer, field):
            raise _mismatch(f"tokenizer {field}", forward.run_id, getattr(forward.tokenizer, field),
                            getattr(tokenizer, field), "pick a run whose text was read the same way")
    adopted = tokenizer.adopt(forward.tokenizer)
    print(f"vocabulary: the {len(adopted.vocabulary) - len(adopted.reserved):,} tokens of run {forward.run_id} "
          f"(init_from; max_vocab does not apply)", flush=True)
    return adopted


def _sequence_layers(net, config):
    """The network's sequence layers, by position: [(forward, backward or None)]."""
    found = []
    for i in range(config["layers"]):
        names = [f"{config['cell']}_{i}", f"bi_{config['cell']}_{i}"]
        layer = next(net.get_layer(name) for name in names if name in {layer.name for layer in net.layers})
        found.append((layer.forward_layer, layer.backward_layer) if hasattr(layer, "forward_layer") else (layer, None))
    return found


def _carry(ours, theirs, run_id):
    """Copies layer `theirs`'s weights into `ours`; a shape that differs is a one-line UserError."""
    shapes = [tuple(w.shape) for w in ours.get_weights()], [tuple(w.shape) for w in theirs.get_weights()]
    if shapes[0] != shapes[1]:
        raise _mismatch(f"the weights of layer {theirs.name}", run_id, shapes[1], shapes[0],
                        "train this run with that run's sizes (units, sequence_length of a tcn)")
    ours.set_weights(theirs.get_weights())


def initialize(net, config, tokenizer):
    """Sets `net`'s embedding and sequence layers from config's sources; returns [the carried
    variables] (for freeze_epochs and pretrained_lr_scale) and prints which halves start fresh.
    tokenizer: the run's tokens tokenizer (its vocabulary the source's, zoo.text.Tokenizer.adopt)."""
    forward, backward = sources(config)
    if forward is None:
        return []
    import numpy as np

    embedding = net.get_layer("embedding")
    theirs = forward.net.get_layer("embedding").get_weights()[0]
    rows = [forward.tokenizer.id_of(token) for token in tokenizer.vocabulary]
    matrix = theirs[rows]
    if tokenizer.padding:
        matrix[0] = 0.0  # padding: masked, never read
    embedding.set_weights([matrix.astype(np.float32)])
    carried = list(embedding.trainable_variables)
    ours = _sequence_layers(net, {"cell": config.cell, "layers": config.layers})
    pairs = zip(ours, _sequence_layers(forward.net, forward.config),
                _sequence_layers(backward.net, backward.config) if backward else [(None, None)] * len(ours))
    fresh = []
    for (our_forward, our_backward), (their_forward, their_backward), (their_reverse, _) in pairs:
        _carry(our_forward, their_forward, forward.run_id)
        carried += our_forward.trainable_variables
        if our_backward is not None:
            given = their_backward if forward.bidirectional else their_reverse
            if given is None:
                fresh.append(our_backward.name)
                continue
            _carry(our_backward, given, (backward or forward).run_id)
            carried += our_backward.trainable_variables
    print(f"init_from: embedding and {len(ours)} sequence layer(s) from run {forward.run_id}"
          + (f", backward halves from run {backward.run_id}" if backward else "")
          + (f"; starting fresh: {', '.join(fresh)}" if fresh else ""), flush=True)
    return carried


def lineage(config):
    """(tags, MLflow 3 model ids of the sources' logged models) of a run that starts from others."""
    runs = [run_id for run_id in (config.init_from, config.init_from_backward) if run_id]
    if not runs:
        return {}, []
    models = [output.model_id for run_id in runs for output in tracking.get_run(run_id).outputs.model_outputs]
    return {"pretrained": ",".join(runs), "pretrained_models": ",".join(f"runs:/{run_id}/model" for run_id in runs)}, models
