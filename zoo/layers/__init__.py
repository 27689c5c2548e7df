"""The zoo's Keras layers and models; importing the package registers every serializable one
(`zoo>VanillaRNNCell`, `zoo>VanillaRNN`, `zoo>CausalConvStack`, `zoo>GradientMonitor`, `zoo>MaskedMean`,
`zoo>CharacterFeatures`), so that
saved models load with `keras.saving.load_model` without `custom_objects`.

- `vanilla`: `VanillaRNNCell` (one step, for `keras.layers.RNN`) and `VanillaRNN` (whole
  sequences, with hand-written backpropagation through time).
- `bptt`: the forward loop and hand-written backward pass behind `VanillaRNN` (`bptt`).
- `causal_conv`: `CausalConvStack`, causal dilated 1-D convolutions (the `tcn` cell).
- `monitor`: `GradientMonitor`, Keras's train step plus the gradient norm and clipping rate.
- `features`: `MaskedMean` (pooling over the unmasked steps) and `CharacterFeatures` (a word's
  features from its characters).
- `checks`: argument checks the layers share.

Note: `zoo.layers.bptt` is the function; the module is reached as `from zoo.layers.bptt import ...`.
"""

from zoo.layers.bptt import bptt
# the number of batch parts VanillaRNN runs concurrently, looked up here when a layer is traced
from zoo.layers.bptt import _parallel_parts  # noqa: F401
from zoo.layers.causal_conv import CausalConvStack
from zoo.layers.features import CharacterFeatures, MaskedMean
from zoo.layers.monitor import GradientMonitor
from zoo.layers.vanilla import VanillaRNN, VanillaRNNCell

__all__ = ["CausalConvStack", "CharacterFeatures", "GradientMonitor", "MaskedMean", "VanillaRNN", "VanillaRNNCell", "bptt"]
