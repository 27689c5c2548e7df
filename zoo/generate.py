"""Using a trained language model: sample text from a prompt, and score sentences.

The model is a stateless one (zoo.models.build(..., stateful=False)) that maps token ids
[batch, time] to next-token logits [batch, time, vocab]; `vocabulary[i]` is the token of id i.
Words are split on whitespace; a character-level model (Tiny Shakespeare) reads characters.
"""

import re

import numpy as np
import tensorflow as tf

EOS = "<eos>"
LINE_BREAK = f" ?{EOS} ?"  # a generated <eos> and the spaces around it become one line break


def tokenize(text, characters):
    return list(text) if characters else text.split()


def ids(tokens, vocabulary):
    """Token ids; 0 (out of vocabulary) for unknown tokens."""
    index = {token: i for i, token in enumerate(vocabulary)}
    return [index.get(token, 0) for token in tokens]  # id 0: out of vocabulary


def log_softmax(logits):
    """log of softmax over the last axis, computed stably."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def generate(net, vocabulary, prompt, length, temperature=1.0, seed=0, characters=False, context=200):
    """The prompt followed by `length` sampled tokens: each sample is fed back as the next input
    (one-to-many). temperature < 1 sharpens the distribution, > 1 flattens it. Sampling is
    tf.random.stateless_categorical with seed (seed, step), as the exported `generate` signature."""
    if temperature <= 0:
        raise ValueError(f"Received an invalid value for argument `temperature`, expected > 0, got {temperature}.")
    sequence = ids(tokenize(prompt, characters), vocabulary)[-context:] or ids([EOS], vocabulary)
    for step in range(length):
        logits = net.predict_on_batch(np.array([sequence[-context:]], dtype="int32"))[:, -1] / temperature
        sampled = tf.random.stateless_categorical(logits, 1, seed=[seed, step], dtype=tf.int32)
        sequence.append(int(sampled[0, 0]))
    tokens = [vocabulary[i] for i in sequence]
    return "".join(tokens) if characters else re.sub(LINE_BREAK, "\n", " ".join(tokens))


def score(net, vocabulary, sentence, characters=False):
    """log P(sentence) in nats: the sum of log p(token_t | tokens before t), after a sentence
    boundary, including the closing <eos> for a word model."""
    tokens = tokenize(sentence, characters)
    sequence = ids(([] if characters else [EOS]) + tokens + ([] if characters else [EOS]), vocabulary)
    log_probabilities = log_softmax(np.asarray(net.predict_on_batch(np.array([sequence[:-1]], dtype="int32")))[0])
    return float(sum(log_probabilities[t, sequence[t + 1]] for t in range(len(sequence) - 1)))


def samples(net, vocabulary, prompts, temperatures=(0.5, 1.0, 1.5), length=60, characters=False):
    """Text of samples from each prompt at each temperature, for a run's artifact."""
    parts = []
    for prompt in prompts:
        for temperature in temperatures:
            text = generate(net, vocabulary, prompt, length, temperature, characters=characters)
            parts.append(f"--- prompt {prompt!r}, temperature {temperature} ---\n{text}\n")
    return "\n".join(parts)
