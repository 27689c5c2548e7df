"""Using a trained language model: sample text from a prompt, and score sentences.

The model is a stateless one (zoo.models.build(..., stateful=False)) that maps token ids
[batch, time] to next-token logits [batch, time, vocab]; `vocabulary[i]` is the token of id i.
Words are split on whitespace; a character-level model (Tiny Shakespeare) reads characters.
"""

import numpy as np

EOS = "<eos>"


def tokenize(text, characters):
    return list(text) if characters else text.split()


def _ids(tokens, vocabulary):
    index = {token: i for i, token in enumerate(vocabulary)}
    return [index.get(token, 0) for token in tokens]  # id 0: out of vocabulary


def _log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def generate(net, vocabulary, prompt, length, temperature=1.0, seed=0, characters=False, context=200):
    """The prompt followed by `length` sampled tokens: each sample is fed back as the next input
    (one-to-many). temperature < 1 sharpens the distribution, > 1 flattens it."""
    if temperature <= 0:
        raise ValueError(f"Received an invalid value for argument `temperature`, expected > 0, got {temperature}.")
    rng = np.random.default_rng(seed)
    ids = _ids(tokenize(prompt, characters), vocabulary) or _ids([EOS], vocabulary)
    for _ in range(length):
        logits = np.asarray(net.predict_on_batch(np.array([ids[-context:]], dtype="int32")))[0, -1]
        probabilities = np.exp(_log_softmax(logits.astype("float64") / temperature))
        ids.append(int(rng.choice(len(probabilities), p=probabilities / probabilities.sum())))
    tokens = [vocabulary[i] for i in ids]
    if characters:
        return "".join(tokens)
    return " ".join(tokens).replace(f" {EOS} ", "\n").replace(EOS, "\n")


def score(net, vocabulary, sentence, characters=False):
    """log P(sentence) in nats: the sum of log p(token_t | tokens before t), after a sentence
    boundary, including the closing <eos> for a word model."""
    tokens = tokenize(sentence, characters)
    ids = _ids(([] if characters else [EOS]) + tokens + ([] if characters else [EOS]), vocabulary)
    log_probabilities = _log_softmax(np.asarray(net.predict_on_batch(np.array([ids[:-1]], dtype="int32")))[0])
    return float(sum(log_probabilities[t, ids[t + 1]] for t in range(len(ids) - 1)))


def samples(net, vocabulary, prompts, temperatures=(0.5, 1.0, 1.5), length=60, characters=False):
    """Text of samples from each prompt at each temperature, for a run's artifact."""
    parts = []
    for prompt in prompts:
        for temperature in temperatures:
            text = generate(net, vocabulary, prompt, length, temperature, characters=characters)
            parts.append(f"--- prompt {prompt!r}, temperature {temperature} ---\n{text}\n")
    return "\n".join(parts)
