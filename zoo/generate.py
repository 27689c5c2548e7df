"""Using a trained language model: sample text from a prompt, and score sentences.

The model is a stateless one (zoo.models.build(..., stateful=False)) that maps token ids
[batch, time] to next-token logits [batch, time, vocab]; the run's Tokenizer (zoo.text) turns
text into ids and back, exactly as in training and in the exported SavedModel.
"""

import numpy as np
import tensorflow as tf

EOS = "<eos>"
MAX_LENGTH = 10_000  # tokens one generate call samples (each is a network call)


def start_id(tokenizer):
    """What an empty prompt reads: the sentence boundary <eos> (unknown to a character model)."""
    return tokenizer.id_of(EOS)


def prompt_ids(tokenizer, prompt):
    """The ids of a prompt (its last tokenizer.length tokens), or [start] if it has none."""
    ids = tokenizer.ids([prompt])[0].numpy().tolist()
    return ids or [start_id(tokenizer)]


def log_softmax(logits):
    """log of softmax over the last axis, computed stably."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def generate(net, tokenizer, prompt, length, temperature=1.0, seed=0):
    """The prompt followed by `length` sampled tokens: each sample is fed back as the next input
    (one-to-many). temperature < 1 sharpens the distribution, > 1 flattens it. Sampling is
    tf.random.stateless_categorical with seed (seed, step), as the exported `generate` signature."""
    if temperature <= 0:
        raise ValueError(f"Received an invalid value for argument `temperature`, expected > 0, got {temperature}.")
    if not 1 <= length <= MAX_LENGTH:
        raise ValueError(f"Received an invalid value for argument `length`, expected 1 to {MAX_LENGTH:,}, got {length}.")
    context = tokenizer.length
    sequence = prompt_ids(tokenizer, prompt)
    for step in range(length):
        logits = net.predict_on_batch(np.array([sequence[-context:]], dtype="int32"))[:, -1] / temperature
        sampled = tf.random.stateless_categorical(logits, 1, seed=[seed, step], dtype=tf.int32)
        sequence.append(int(sampled[0, 0]))
    return tokenizer.detokenize(sequence)


def score(net, tokenizer, sentence):
    """log P(sentence) in nats: the sum of log p(token_t | tokens before t), after a sentence
    boundary, including the closing <eos> for a word model (one with a line_end token).

    In bounded memory, whatever the length: the network reads windows of at most the training
    context (tokenizer.length) tokens, so each token is scored given up to that many before it
    (at least half of it once the text is longer than one window); a text within one window is
    scored exactly as a whole."""
    ids = tokenizer.stream(sentence).numpy().tolist()
    if tokenizer.line_end is not None:
        boundary = tokenizer.id_of(tokenizer.line_end)
        ids = [boundary] + ids + [boundary]
    window, total = tokenizer.length, 0.0
    step = max(1, window // 2)
    first, end = 1, min(len(ids), window + 1)  # targets ids[first:end], read from ids[start:end - 1]
    while first < len(ids):
        start = max(0, end - 1 - window)
        logits = np.asarray(net.predict_on_batch(np.array([ids[start:end - 1]], dtype="int32")))[0]
        log_probabilities = log_softmax(logits[first - start - 1:])
        total += float(sum(log_probabilities[i, ids[first + i]] for i in range(end - first)))
        first, end = end, min(len(ids), end + step)
    return total


def samples(net, tokenizer, prompts, temperatures=(0.5, 1.0, 1.5), length=60):
    """Text of samples from each prompt at each temperature, for a run's artifact."""
    parts = []
    for prompt in prompts:
        for temperature in temperatures:
            text = generate(net, tokenizer, prompt, length, temperature)
            parts.append(f"--- prompt {prompt!r}, temperature {temperature} ---\n{text}\n")
    return "\n".join(parts)
