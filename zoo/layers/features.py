"""Layers of the zoo's networks around the recurrent ones: `MaskedMean` (many-to-one pooling over
the unmasked steps) and `CharacterFeatures` (each word's features from its characters)."""

import keras
from keras import ops

from zoo.config import CHARACTER_ENCODERS


@keras.saving.register_keras_serializable(package="zoo")
class MaskedMean(keras.layers.Layer):
    """Mean over the unmasked steps: [batch, time, units] -> [batch, units]; zeros for a sequence
    with no unmasked step (keras.layers.GlobalAveragePooling1D gives 0 / 0 = nan there, and an
    SST-2 phrase of punctuation alone is such a sequence)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.mean(inputs, axis=1)
        weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        return ops.sum(inputs * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)

    def compute_mask(self, inputs, mask=None):
        return None


@keras.saving.register_keras_serializable(package="zoo")
class CharacterFeatures(keras.layers.Layer):
    """Character ids of each word [batch, time, chars] (0 pads) -> features [batch, time, size]:
    an embedding of each character, then encoder "cnn": a convolution of width `width` over the
    word's characters (ReLU) and the maximum over them (Ma & Hovy 2016), size = filters; or
    encoder "bilstm": an LSTM of `filters` units each way over the characters, the last state of
    each direction joined (Plank et al. 2016, Lample et al. 2016), size = 2 x filters. Padding
    characters are left out (zero vectors and out of the maximum; masked for the LSTM), so a word's
    features do not depend on how far it is padded.

    Called on [word vectors [batch, time, d], character ids], it returns the word vectors with the
    features joined, [batch, time, d + size], and keeps the word vectors' mask (Keras's
    Concatenate would not: it ORs an unmasked input's all-true mask into the padding)."""

    def __init__(self, characters, filters, embedding_size=16, width=3, encoder="cnn", **kwargs):
        super().__init__(**kwargs)
        if encoder not in CHARACTER_ENCODERS:
            raise ValueError(f"Received an invalid value for argument `encoder`, expected one of "
                             f"{', '.join(CHARACTER_ENCODERS)}, got {encoder!r}")
        self.supports_masking = True
        self.characters, self.filters, self.embedding_size, self.width = characters, filters, embedding_size, width
        self.encoder, self.size = encoder, filters * (2 if encoder == "bilstm" else 1)
        self.embedding = keras.layers.Embedding(characters, embedding_size, name="character_embedding")
        if encoder == "cnn":
            self.convolution = keras.layers.Conv1D(filters, width, padding="same", activation="relu",
                                                   name="character_convolution")
        else:
            self.lstm = keras.layers.Bidirectional(keras.layers.LSTM(filters), name="character_bilstm")

    def build(self, shape):
        self.embedding.build((None, None))
        if self.encoder == "cnn":
            self.convolution.build((None, None, self.embedding_size))
        else:
            self.lstm.build((None, None, self.embedding_size))

    def call(self, inputs, mask=None):
        words, characters = inputs if isinstance(inputs, (list, tuple)) else (None, inputs)
        shape = ops.shape(characters)
        flat = ops.reshape(characters, (-1, shape[2]))  # one row per word
        present = ops.greater(flat, 0)
        real = ops.expand_dims(ops.cast(present, self.compute_dtype), -1)
        if self.encoder == "cnn":
            features = ops.max(self.convolution(self.embedding(flat) * real) * real, axis=1)
        else:  # a word of padding only (a padded position of the sentence) gets zeros
            word = ops.cast(ops.any(present, axis=1, keepdims=True), self.compute_dtype)
            features = self.lstm(self.embedding(flat) * real, mask=present) * word
        features = ops.reshape(features, (shape[0], shape[1], self.size))
        return features if words is None else ops.concatenate([words, features], axis=-1)

    def compute_mask(self, inputs, mask=None):
        return mask[0] if isinstance(mask, (list, tuple)) else None

    def compute_output_shape(self, shape):
        if isinstance(shape, (list, tuple)) and isinstance(shape[0], (list, tuple)):
            words, characters = shape
            return (*words[:-1], words[-1] + self.size)
        return (shape[0], shape[1], self.size)

    def get_config(self):
        return {**super().get_config(), "characters": self.characters, "filters": self.filters,
                "embedding_size": self.embedding_size, "width": self.width, "encoder": self.encoder}
