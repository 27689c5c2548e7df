"""VanillaRNNCell and VanillaRNN against Keras's SimpleRNN, autodiff and finite differences."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.diagnostics import gradient_flow
from zoo.layers import VanillaRNN, VanillaRNNCell

B, T, D, H = 3, 7, 5, 4
ATOL = RTOL = 1e-5


def close(a, b, atol=ATOL, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=atol, rtol=rtol)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(B, T, D)).astype("float32")
    h0 = rng.normal(size=(B, H)).astype("float32")
    mask = np.ones((B, T), bool)
    mask[0, 4:] = False  # right padding
    mask[1, 1:] = False  # a one-step sequence
    return x, h0, mask


def twins(activation, **kwargs):
    """A VanillaRNN and a SimpleRNN with the same weights."""
    ours = VanillaRNN(H, activation=activation, **kwargs)
    keras_rnn = keras.layers.SimpleRNN(H, activation=activation, **kwargs)
    ours.build((None, T, D))
    keras_rnn.build((None, T, D))
    keras_rnn.set_weights(ours.get_weights())
    return ours, keras_rnn


def loss_of(layer, x, h0, mask, **call_kwargs):
    """A loss touching every output (and the returned state) with distinct weights."""
    out = layer(x, initial_state=h0, mask=mask, **call_kwargs)
    outs = out if isinstance(out, (list, tuple)) else [out]
    total = 0.0
    for i, o in enumerate(outs):
        weights = tf.cast(tf.reshape(tf.range(tf.size(o)) % 7, tf.shape(o)), o.dtype) - 3.0
        total += tf.reduce_sum(tf.sin(o) * weights) * (i + 1)
    return total


def grads(layer, x, h0, mask):
    x, h0 = tf.convert_to_tensor(x), tf.convert_to_tensor(h0)
    with tf.GradientTape() as tape:
        tape.watch([x, h0])
        loss = loss_of(layer, x, h0, mask)
    return tape.gradient(loss, [x, h0] + layer.trainable_weights)


FORWARD_CASES = list(itertools.product(["tanh", "relu"], [False, True], [False, True], [False, True]))


@pytest.mark.parametrize("activation,masked,go_backwards,return_sequences", FORWARD_CASES)
def test_forward_equals_simple_rnn(data, activation, masked, go_backwards, return_sequences):
    x, h0, mask = data
    kwargs = dict(return_sequences=return_sequences, return_state=True, go_backwards=go_backwards)
    ours, keras_rnn = twins(activation, **kwargs)
    m = mask if masked else None
    for initial_state in (None, h0):
        got = ours(x, initial_state=initial_state, mask=m)
        want = keras_rnn(x, initial_state=initial_state, mask=m)
        assert len(got) == len(want) == 2
        for g, w in zip(got, want):
            assert g.shape == w.shape
            close(g, w)
    # return_state=False gives the output alone
    plain, keras_plain = twins(activation, return_sequences=return_sequences, go_backwards=go_backwards)
    close(plain(x, mask=m), keras_plain(x, mask=m))


@pytest.mark.parametrize("activation,masked", [("tanh", False), ("relu", True)])
def test_forward_zero_output_for_mask_and_bidirectional(data, activation, masked):
    x, _, mask = data
    m = mask if masked else None
    ours = keras.layers.Bidirectional(VanillaRNN(H, activation=activation, return_sequences=True))
    theirs = keras.layers.Bidirectional(
        keras.layers.SimpleRNN(H, activation=activation, return_sequences=True)
    )
    ours.build((None, T, D))
    theirs.build((None, T, D))
    theirs.set_weights(ours.get_weights())
    close(ours(x, mask=m), theirs(x, mask=m))
    assert ours.forward_layer.zero_output_for_mask  # Bidirectional sets it; we honour it


@pytest.mark.parametrize("activation,masked,go_backwards", list(itertools.product(["tanh", "relu"], [False, True], [False, True])))
def test_backward_equals_autodiff(data, activation, masked, go_backwards):
    x, h0, mask = data
    m = mask if masked else None
    kwargs = dict(return_sequences=True, return_state=True, go_backwards=go_backwards)
    ours, keras_rnn = twins(activation, **kwargs)
    cell_rnn = keras.layers.RNN(VanillaRNNCell(H, activation=activation), **kwargs)
    cell_rnn.build((None, T, D))
    cell_rnn.set_weights(ours.get_weights())
    got = grads(ours, x, h0, m)
    assert len(got) == 5  # inputs, initial state, kernel, recurrent_kernel, bias
    for reference in (keras_rnn, cell_rnn):
        want = grads(reference, x, h0, m)
        for g, w in zip(got, want):
            close(g, w)


@pytest.mark.parametrize("activation", ["elu", "sigmoid"])
def test_backward_any_elementwise_activation(data, activation):
    x, h0, mask = data
    ours, keras_rnn = twins(activation, return_sequences=True, return_state=True)
    for m in (None, mask):
        for g, w in zip(grads(ours, x, h0, m), grads(keras_rnn, x, h0, m)):
            close(g, w)


@pytest.mark.parametrize("parts", [2, 3])
def test_batch_split_across_cores_changes_nothing(monkeypatch, parts):
    """The layer may run parts of a batch concurrently; results must equal SimpleRNN's."""
    import zoo.layers

    monkeypatch.setattr(zoo.layers, "_parallel_parts", lambda batch_size: parts)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(37, T, D)).astype("float32")  # uneven parts
    h0 = rng.normal(size=(37, H)).astype("float32")
    mask = rng.uniform(size=(37, T)) < 0.8
    ours, keras_rnn = twins("relu", return_sequences=True, return_state=True, go_backwards=True)
    for g, w in zip(ours(x, initial_state=h0, mask=mask), keras_rnn(x, initial_state=h0, mask=mask)):
        close(g, w)
    for g, w in zip(grads(ours, x, h0, mask), grads(keras_rnn, x, h0, mask)):
        # the weight gradients sum 37 examples in another order: float32 rounding grows with their size
        close(g, w, atol=ATOL * max(1.0, float(np.abs(np.asarray(w)).max())))


def test_backward_finite_differences_float64(data):
    x, h0, mask = data
    x, h0 = x.astype("float64"), h0.astype("float64")
    layer = VanillaRNN(H, activation="tanh", return_sequences=True, return_state=True, dtype="float64")
    layer.build((None, T, D))
    analytic = grads(layer, x, h0, mask)
    values = [x, h0] + [w.numpy() for w in layer.trainable_weights]

    def loss_at(vals):
        layer.set_weights(vals[2:])
        return float(loss_of(layer, tf.constant(vals[0]), tf.constant(vals[1]), mask))

    eps = 1e-6
    for which, value in enumerate(values):
        numeric = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            plus = [v.copy() for v in values]
            minus = [v.copy() for v in values]
            plus[which][idx] += eps
            minus[which][idx] -= eps
            numeric[idx] = (loss_at(plus) - loss_at(minus)) / (2 * eps)
        close(analytic[which], numeric, atol=1e-6, rtol=1e-6)
    layer.set_weights(values[2:])


def truncated_reference(layer, x, h0, s, k):
    """Autodiff of the loss at step s with h_{s-k-1} cut from the graph, via the cell."""
    cell = layer.cell
    h = tf.constant(h0)
    for t in range(s + 1):
        if t == s - k:
            h = tf.stop_gradient(h)
        h, _ = cell(x[:, t], [h])
    return h


@pytest.mark.parametrize("k", [1, 3])
def test_truncated_bptt(data, k):
    x, h0, _ = data
    layer = VanillaRNN(H, return_sequences=True, bptt_steps=k)
    layer.build((None, T, D))
    xs = tf.constant(x)
    for s in range(T):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(xs)
            loss = tf.reduce_sum(layer(xs)[:, s] ** 2)
            ref_loss = tf.reduce_sum(truncated_reference(layer, xs, np.zeros_like(h0), s, k) ** 2)
        d_x = tape.gradient(loss, xs).numpy()
        for t in range(T):
            per_step = np.abs(d_x[:, t]).max()
            if s - t > k or t > s:
                assert per_step == 0.0, (s, t)  # exactly zero, not small
            else:
                assert per_step > 0.0, (s, t)
        got = tape.gradient(loss, [xs] + layer.trainable_weights)
        want = tape.gradient(ref_loss, [xs] + layer.trainable_weights)
        for g, w in zip(got, want):
            close(g, w)


def test_truncated_equals_full_when_k_covers_sequence(data):
    x, h0, mask = data
    full = VanillaRNN(H, activation="relu", return_sequences=True, return_state=True)
    full.build((None, T, D))
    for k in (T, T + 5):
        cut = VanillaRNN(H, activation="relu", return_sequences=True, return_state=True, bptt_steps=k)
        cut.build((None, T, D))
        cut.set_weights(full.get_weights())
        for g, w in zip(grads(cut, x, h0, mask), grads(full, x, h0, mask)):
            close(g, w)


def test_gradient_flow_equals_autodiff_on_states(data):
    """||dL/dh_t|| from the layer's own backward pass against autodiff through the cell."""
    x, _, _ = data
    inputs = keras.Input((T, D))
    model = keras.Model(inputs, keras.layers.Dense(1)(VanillaRNN(H, return_sequences=True)(inputs)))
    targets = np.ones((B, T, 1), "float32")
    loss = keras.losses.MeanSquaredError()
    flow = gradient_flow(model, x, targets, loss)
    (norms,) = flow.values()
    assert norms.shape == (T,)

    layer, dense = model.layers[1], model.layers[2]
    bumps = [tf.zeros((B, H)) for _ in range(T)]  # dL/d(bump_t) = dL/dh_t
    with tf.GradientTape() as tape:
        tape.watch(bumps)
        h, outs = tf.zeros((B, H)), []
        for t in range(T):
            h, _ = layer.cell(x[:, t], [h])
            h = h + bumps[t]
            outs.append(h)
        value = loss(targets, dense(tf.stack(outs, axis=1)))
    want = [np.linalg.norm(g, axis=-1).mean() for g in tape.gradient(value, bumps)]
    close(norms, want)

    # the same model with SimpleRNN goes through autodiff on its states: same numbers
    twin = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.SimpleRNN(H, return_sequences=True)(inputs)))
    twin.set_weights(model.get_weights())
    (twin_norms,) = gradient_flow(twin, x, targets, loss).values()
    close(twin_norms, norms)


def test_identity_and_scaled_orthogonal_initializers():
    irnn = VanillaRNN(H, activation="relu", recurrent_initializer=keras.initializers.Identity())
    irnn.build((None, T, D))
    np.testing.assert_array_equal(irnn.cell.recurrent_kernel.numpy(), np.eye(H))
    for rho in (0.5, 1.5):
        layer = VanillaRNN(H, recurrent_initializer=keras.initializers.Orthogonal(gain=rho, seed=1))
        layer.build((None, T, D))
        eigenvalues = np.linalg.eigvals(layer.cell.recurrent_kernel.numpy())
        close(np.abs(eigenvalues), np.full(H, rho))


def test_dropout_masks_inputs_only_in_training(data):
    x, _, _ = data
    layer = VanillaRNN(H, dropout=0.5, seed=3, return_sequences=True)
    plain = VanillaRNN(H, return_sequences=True)
    layer.build((None, T, D))
    plain.build((None, T, D))
    plain.set_weights(layer.get_weights())
    close(layer(x, training=False), plain(x))
    assert np.abs(layer(x, training=True) - plain(x)).max() > 1e-3
    cell_rnn = keras.layers.RNN(VanillaRNNCell(H, dropout=0.5, seed=3), return_sequences=True)
    cell_rnn.build((None, T, D))
    cell_rnn.set_weights(layer.get_weights())
    close(cell_rnn(x, training=False), plain(x))
    assert np.abs(cell_rnn(x, training=True) - plain(x)).max() > 1e-3


def test_config_round_trip():
    layer = VanillaRNN(
        7, activation="relu", use_bias=False, bptt_steps=4, dropout=0.1, seed=5,
        recurrent_initializer=keras.initializers.Identity(), return_sequences=True, go_backwards=True,
    )
    clone = VanillaRNN.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    cell = VanillaRNNCell(3, activation="relu", dropout=0.2)
    assert VanillaRNNCell.from_config(cell.get_config()).get_config() == cell.get_config()


def test_saved_model_round_trip(tmp_path, data):
    x, _, _ = data
    inputs = keras.Input((T, D))
    seq = VanillaRNN(H, activation="relu", return_sequences=True, bptt_steps=3)(inputs)
    seq = keras.layers.Bidirectional(VanillaRNN(H, return_sequences=True))(seq)
    last = keras.layers.RNN(VanillaRNNCell(H))(seq)
    model = keras.Model(inputs, keras.layers.Dense(2)(last))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # no custom_objects: the layers are registered
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert isinstance(loaded.layers[1], VanillaRNN) and loaded.layers[1].bptt_steps == 3


@pytest.mark.parametrize("jit_compile", [False, True])
def test_fit_learns_with_and_without_xla(jit_compile):
    """A stacked VanillaRNN learns to output the running mean of its input under model.fit."""
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(1).uniform(-1, 1, size=(64, 12, 1)).astype("float32")
    y = np.cumsum(x, axis=1) / np.arange(1, 13)[None, :, None]
    model = keras.Sequential([
        keras.Input((12, 1)),
        VanillaRNN(16, return_sequences=True),
        VanillaRNN(16, activation="relu", return_sequences=True,
                   recurrent_initializer=keras.initializers.Identity(gain=0.5)),
        keras.layers.Dense(1),
    ])
    model.compile(keras.optimizers.Adam(1e-2, global_clipnorm=1.0), "mse", jit_compile=jit_compile)
    before = model.evaluate(x, y, verbose=0)
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < 0.2 * before


@pytest.mark.parametrize(
    "make,needle",
    [
        (lambda: VanillaRNN(0), "`units`"),
        (lambda: VanillaRNN(-3), "`units`"),
        (lambda: VanillaRNNCell(2.5), "`units`"),
        (lambda: VanillaRNN(4, activation="nope"), "`activation`"),
        (lambda: VanillaRNN(4, activation="softmax"), "`activation`"),
        (lambda: VanillaRNN(4, bptt_steps=0), "`bptt_steps`"),
        (lambda: VanillaRNN(4, bptt_steps=2.0), "`bptt_steps`"),
        (lambda: VanillaRNNCell(4, dropout=1.0), "`dropout`"),
        (lambda: VanillaRNN(4)(np.zeros((2, 3), "float32")), "`sequences`"),
        (lambda: VanillaRNN(4)(np.zeros((2, 3, 4, 5), "float32")), "`sequences`"),
    ],
)
def test_bad_arguments_say_what_and_what_is_valid(make, needle):
    with pytest.raises(ValueError) as err:
        make()
    message = str(err.value)
    assert needle in message and "expected" in message and "got" in message
    assert "\n" not in message
