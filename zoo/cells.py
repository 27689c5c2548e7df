"""Every cell type in one table: how its sequence layer is built and what it accepts.

    CELLS["gru"].activations      # ("tanh",)
    CELLS["vanilla"].build(config, return_sequences=True, name="vanilla_0", length=50)

Builders import Keras when called, so that this table (and zoo.config, which validates against
it) loads without TensorFlow.
"""

from dataclasses import dataclass

INITIALIZERS = ("orthogonal", "identity", "glorot_uniform")  # of the recurrent kernel


def recurrent_initializer(config):
    """The recurrent kernel's initializer; spectral_radius scales the orthogonal and identity ones."""
    import keras

    return {
        "orthogonal": lambda: keras.initializers.Orthogonal(gain=config.spectral_radius, seed=config.seed),
        "identity": lambda: keras.initializers.Identity(gain=config.spectral_radius),
        "glorot_uniform": lambda: keras.initializers.GlorotUniform(seed=config.seed),
    }[config.recurrent_initializer]()


def _vanilla(config, unroll, **common):  # its loop is compiled (zoo.layers.bptt): nothing to unroll
    from zoo.layers import VanillaRNN

    return VanillaRNN(config.units, activation=config.activation, bptt_steps=config.bptt_steps, **common)


def gpu_present():
    """True where TensorFlow sees a GPU. There Keras runs GRU and LSTM with cuDNN's kernel under its
    conditions (tanh, sigmoid gates, biases, reset_after, no recurrent dropout, not unrolled;
    tests/test_cudnn.py checks every preset's network against them), so config.unroll, a CPU
    speed-up, does not apply to them."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def _keras(kind, with_activation=False, cudnn=False):
    def build(config, unroll, **common):
        import keras

        extra = {"activation": config.activation} if with_activation else {}
        unroll = unroll and not (cudnn and gpu_present())
        return getattr(keras.layers, kind)(config.units, unroll=unroll, **extra, **common)

    return build


def _causal_conv(config, return_sequences, name, length):
    from zoo.layers import CausalConvStack

    return CausalConvStack(config.units, receptive_field=length or config.sequence_length,
                           return_sequences=return_sequences, dropout=config.dropout, name=name)


@dataclass(frozen=True)
class Cell:
    """One cell type. `recurrent` cells are Keras RNN layers (state, stateful training, gradient
    flow, bidirectional); the causal convolution stack is not."""

    name: str
    description: str
    make: object  # (config, unroll, **Keras RNN arguments) -> layer; or, not recurrent, (config,
    #               return_sequences, name, length) -> layer
    activations: tuple = ("tanh",)  # allowed values of config.activation (the first is the default)
    initializers: tuple = INITIALIZERS  # allowed values of config.recurrent_initializer
    recurrent: bool = True
    truncated_bptt: bool = False  # honours config.bptt_steps
    mixed_precision: bool = False  # follows a mixed_float16 dtype policy (config.mixed_precision)

    def build(self, config, return_sequences, name, length, stateful=False, unroll=False, dtype=None):
        """The sequence layer, bidirectional if config.bidirectional. length: the input's steps
        (None if they vary); stateful: carry each row's last state into the next batch; unroll:
        Keras's unroll for fixed-length inputs (ignored where the cell has its own loop); dtype:
        a Keras dtype policy ("mixed_float16"), None for the default."""
        if not self.recurrent:
            return self.make(config, return_sequences, name, length)
        import keras

        policy = {} if dtype is None else {"dtype": dtype}
        layer = self.make(config, unroll, return_sequences=return_sequences, dropout=config.dropout,
                          seed=config.seed, recurrent_initializer=recurrent_initializer(config),
                          stateful=stateful, name=name, **policy)
        return keras.layers.Bidirectional(layer, name=f"bi_{name}", **policy) if config.bidirectional else layer


CELLS = {cell.name: cell for cell in (
    Cell("vanilla", "zoo.layers.VanillaRNN: hand-written BPTT", _vanilla, activations=("tanh", "relu"),
         truncated_bptt=True),
    Cell("vanilla_keras", "keras.layers.SimpleRNN", _keras("SimpleRNN", with_activation=True), mixed_precision=True,
         activations=("tanh", "relu")),
    Cell("gru", "keras.layers.GRU", _keras("GRU", cudnn=True), mixed_precision=True),
    Cell("lstm", "keras.layers.LSTM", _keras("LSTM", cudnn=True), mixed_precision=True),
    Cell("tcn", "zoo.layers.CausalConvStack: causal dilated convolutions, not recurrent", _causal_conv,
         initializers=("orthogonal",), recurrent=False),
)}
