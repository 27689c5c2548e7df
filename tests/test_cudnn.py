"""Ready for a GPU: every GRU and LSTM that the presets and the studies build meets the conditions
under which Keras runs cuDNN's kernel (keras/src/backend/tensorflow/rnn.py's cudnn_ok: tanh,
sigmoid gates, biases, reset_after for the GRU, not unrolled; and no recurrent dropout), checked
here on a CPU with a GPU pretended. Masks, the other condition, are right-padded: the tokenizer
pads at the end (tests/test_tokenizer.py)."""

import dataclasses
import importlib

import keras
import pytest

from zoo import cells, models, presets, tasks
from zoo.data.pipelines import Data
from zoo.text import Tokenizer

keras_rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")  # the module (the package exports a function rnn)


def preset_configs():
    """Every Config of the presets and of each study's base, with cell gru and lstm."""
    found = {}
    groups = {"sentiment": presets.SENTIMENT, "pos": presets.POS_TAGGING, "lm": presets.LANGUAGE_MODEL}
    for group, configs in groups.items():
        found.update({f"{group}-{name}": config for name, config in configs.items()})
    found.update({f"study-{name}": study.base for name, study in presets.STUDIES.items()})
    found["pretrain"] = presets.PRETRAIN
    return [pytest.param(dataclasses.replace(config, cell=cell), id=f"{name}-{cell}")
            for name, config in found.items() for cell in ("gru", "lstm")]


def tiny_data(config):
    """The shapes a network of `config` needs, with a small vocabulary (no data is read)."""
    task = tasks.get(config.task)
    characters = Tokenizer(level="character", vocabulary=("", "[UNK]", "a", "b"))
    return Data(train=None, val=None, test=None, vocab_size=50, num_outputs=50 if task.language_model else 5,
                input_shape=(config.sequence_length,) if task.stateful else (None,), train_tokens=0,
                fingerprint="", tokenizers={"characters": characters})


@pytest.mark.parametrize("config", preset_configs())
def test_every_preset_gru_and_lstm_meets_cudnns_conditions_on_a_gpu(config, monkeypatch):
    monkeypatch.setattr(cells, "gpu_present", lambda: True)
    monkeypatch.setattr(keras_rnn, "_is_gpu_available", lambda: True)
    keras.backend.clear_session()
    net = models.build(config, tiny_data(config))
    layers = [inner for layer in net.layers if layer.name.startswith((f"{config.cell}_", f"bi_{config.cell}_"))
              for inner in ([layer.forward_layer, layer.backward_layer] if hasattr(layer, "forward_layer") else [layer])]
    assert len(layers) == config.layers * (2 if config.bidirectional else 1)
    for layer in layers:
        cell = layer.cell
        reset_after = getattr(cell, "reset_after", None)  # None for the LSTM
        assert keras_rnn.cudnn_ok(cell.activation, cell.recurrent_activation, layer.unroll, cell.use_bias,
                                  reset_after), f"{layer.name} of {config.task}: not cuDNN's conditions"
        assert cell.recurrent_dropout == 0 and layer.use_cudnn in ("auto", True)


def test_on_a_cpu_the_language_model_still_unrolls(monkeypatch):
    monkeypatch.setattr(cells, "gpu_present", lambda: False)
    config = dataclasses.replace(presets.LANGUAGE_MODEL["full"], cell="lstm")
    net = models.build(config, tiny_data(config))
    assert config.unroll and net.get_layer("lstm_0").unroll
