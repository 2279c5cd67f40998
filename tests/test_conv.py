"""Convolution, pooling and reshaping layers: finite-difference checks in float64 on several
shapes, strides and paddings (odd sizes included), small hand-computed answers, and a whole
convolutional autoencoder (gradient check, training, the command line)."""
import numpy as np
import pytest

import miniae as ma
from miniae import cli
from miniae.gradcheck import check_layer, check_model
from miniae.layers import Conv1D, Conv2D, ConvTranspose2D, Flatten, MaxPool2D, Reshape, Upsample1D, Upsample2D, im2col


def with_bias(layer, rng):
    layer.params["b"][...] = rng.standard_normal(layer.params["b"].shape)
    return layer


CONV2D_CASES = [  # in, out, kernel, stride, padding, H, W
    (1, 2, 3, 1, 0, 5, 5),
    (2, 3, 3, 1, 1, 6, 7),
    (2, 2, 3, 2, 1, 7, 9),
    (3, 2, (2, 3), (2, 1), (0, 1), 5, 6),
    (1, 2, 4, 3, 2, 9, 8),
]


@pytest.mark.parametrize("case", CONV2D_CASES)
def test_conv2d_gradients(case):
    rng = np.random.default_rng(0)
    c_in, c_out, k, s, p, h, w = case
    layer = with_bias(Conv2D(c_in, c_out, k, s, p, rng=rng), rng)
    assert check_layer(layer, rng.standard_normal((2, c_in, h, w)))


@pytest.mark.parametrize("case", CONV2D_CASES)
def test_conv_transpose2d_gradients(case):
    rng = np.random.default_rng(1)
    c_in, c_out, k, s, p, h, w = case
    output_padding = tuple(st - 1 for st in ((s, s) if isinstance(s, int) else s))  # the largest allowed
    layer = with_bias(ConvTranspose2D(c_in, c_out, k, s, p, output_padding=output_padding, rng=rng), rng)
    assert check_layer(layer, rng.standard_normal((2, c_in, h, w)))


@pytest.mark.parametrize("case", [(1, 2, 3, 1, 1, 11), (2, 3, 5, 2, 2, 17), (3, 1, 4, 3, 0, 13)])
def test_conv1d_gradients(case):
    rng = np.random.default_rng(2)
    c_in, c_out, k, s, p, length = case
    layer = with_bias(Conv1D(c_in, c_out, k, s, p, rng=rng), rng)
    assert layer.params["W"].shape == (c_out, c_in, k)
    assert check_layer(layer, rng.standard_normal((2, c_in, length)))


@pytest.mark.parametrize("layer, shape", [
    (MaxPool2D(2), (2, 3, 6, 6)),
    (MaxPool2D(2), (2, 2, 7, 5)),  # odd: the last row and column are dropped
    (MaxPool2D(3, stride=2), (2, 2, 9, 8)),  # overlapping windows
    (Upsample2D(2), (2, 3, 3, 4)),
    (Upsample2D((1, 3)), (2, 2, 3, 5)),
    (Upsample1D(3), (2, 2, 7)),
    (Reshape((2, 3, 4)), (3, 24)),
    (Flatten(), (3, 2, 3, 5)),
])
def test_shape_layers_gradients(layer, shape):
    assert check_layer(layer, np.random.default_rng(3).standard_normal(shape))


def test_conv2d_known_answer():
    # a 2x2 kernel [[1, 2], [3, 4]] slid over 0..8 as a 3x3 image, no padding
    layer = Conv2D(1, 1, 2)
    layer.params["W"][...] = [[[[1, 2], [3, 4]]]]
    layer.params["b"][...] = 10
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    expected = [[0 + 2 + 9 + 16, 1 + 4 + 12 + 20], [3 + 8 + 18 + 28, 4 + 10 + 21 + 32]]
    np.testing.assert_allclose(layer.forward(x)[0, 0], np.array(expected) + 10)
    # stride 2 and padding 1 on a 3x3 image give a 2x2 output: the corners of the padded windows
    layer = Conv2D(1, 1, 2, stride=2, padding=1)
    layer.params["W"][...] = [[[[1, 0], [0, 0]]]]  # picks the window's top-left pixel
    np.testing.assert_allclose(layer.forward(x)[0, 0], [[0, 0], [0, 4]])


def test_conv_transpose2d_known_answer():
    # one input pixel of value 2 spreads 2 * kernel; stride 2 places the two pixels 2 apart, overlapping in one column
    layer = ConvTranspose2D(1, 1, 3, stride=2)
    layer.params["W"][...] = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    y = layer.forward(np.array([[[[2.0, 1.0]]]]))
    assert y.shape == (1, 1, 3, 5)
    expected = np.zeros((3, 5))
    expected[:, 0:3] += 2 * np.arange(1.0, 10.0).reshape(3, 3)
    expected[:, 2:5] += 1 * np.arange(1.0, 10.0).reshape(3, 3)
    np.testing.assert_allclose(y[0, 0], expected)


@pytest.mark.parametrize("case", CONV2D_CASES)
def test_conv_transpose_is_the_adjoint_of_conv(case):
    # <conv(x), y> = <x, conv_transpose(y)> with the same weights (no bias): the matrices are transposes
    rng = np.random.default_rng(4)
    c_in, c_out, k, s, p, h, w = case
    conv = Conv2D(c_in, c_out, k, s, p, rng=rng)
    y_shape = conv.forward(np.zeros((1, c_in, h, w))).shape
    # the output_padding that makes the transpose's output h x w again
    transpose = ConvTranspose2D(c_out, c_in, k, s, p, rng=rng)
    ho, wo = transpose.output_shape(*y_shape[2:])
    transpose = ConvTranspose2D(c_out, c_in, k, s, p, output_padding=(h - ho, w - wo), rng=rng)
    transpose.params["W"][...] = conv.params["W"]
    x, y = rng.standard_normal((2, c_in, h, w)), rng.standard_normal((2, *y_shape[1:]))
    np.testing.assert_allclose(np.sum(conv.forward(x) * y), np.sum(x * transpose.forward(y)), rtol=1e-12)


def test_conv1d_difference_kernel():
    layer = Conv1D(1, 1, 2)
    layer.params["W"][...] = [[[-1.0, 1.0]]]
    x = np.array([[[1.0, 4.0, 9.0, 16.0]]])
    np.testing.assert_allclose(layer.forward(x), [[[3.0, 5.0, 7.0]]])


def test_im2col_rows_are_windows():
    x = np.arange(2 * 3 * 5 * 4, dtype=float).reshape(2, 3, 5, 4)
    cols = im2col(x, (2, 3), (2, 1))  # Ho = 2, Wo = 2
    assert cols.shape == (2 * 2 * 2, 3 * 2 * 3)
    np.testing.assert_array_equal(cols[2 * 2 + 1 * 2 + 1], x[1, :, 2:4, 1:4].ravel())


def test_maxpool_and_upsample_known_answers():
    x = np.array([[[[1.0, 5.0, 2.0], [3.0, 4.0, 8.0], [9.0, 0.0, 7.0]]]])
    pool = MaxPool2D(2)
    np.testing.assert_array_equal(pool.forward(x), [[[[5.0]]]])
    dx = pool.backward(np.array([[[[2.0]]]]))
    np.testing.assert_array_equal(dx[0, 0], [[0, 2, 0], [0, 0, 0], [0, 0, 0]])
    up = Upsample2D(2)
    np.testing.assert_array_equal(up.forward(np.array([[[[1.0, 2.0]]]]))[0, 0], [[1, 1, 2, 2], [1, 1, 2, 2]])


@pytest.mark.parametrize("make", [
    lambda dtype: Conv2D(2, 3, 3, stride=2, padding=1, dtype=dtype),
    lambda dtype: ConvTranspose2D(2, 3, 3, stride=2, padding=1, output_padding=1, dtype=dtype),
    lambda dtype: MaxPool2D(2), lambda dtype: Upsample2D(2),
])
def test_float32_stays_float32(make):
    layer = make(np.float32)
    x = np.random.default_rng(5).standard_normal((2, 2, 6, 6)).astype(np.float32)
    y = layer.forward(x)
    assert y.dtype == np.float32
    assert layer.backward(np.ones_like(y)).dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.grads.values())


def test_first_layer_skips_input_gradient():
    for layer in (Conv2D(1, 2, 3), ConvTranspose2D(1, 2, 3), Conv1D(1, 2, 3)):
        x = np.ones((2, 1, 5)) if isinstance(layer, Conv1D) else np.ones((2, 1, 5, 5))
        y = layer.forward(x)
        layer.input_grad = False
        assert layer.backward(np.ones_like(y)) is None
        assert np.any(layer.grads["W"] != 0)


def test_a_model_skips_the_data_gradient_up_to_its_first_weights():
    model = ma.Autoencoder.conv((1, 8, 8), channels=(2, 3), code_size=4, rng=0)
    layers = model.encoder.layers + model.decoder.layers
    skipping = [type(layer).__name__ for layer in layers if getattr(layer, "input_grad", True) is False]
    assert skipping == ["Reshape", "Conv2D"]  # the Reshape reads the data, the Conv2D's dx would only reach it
    X = np.random.default_rng(0).uniform(size=(3, 64))
    model.loss_and_grads(X)
    assert model.encoder.layers[1].backward(np.ones((3, 2, 8, 8))) is None
    dense = ma.Autoencoder.mirrored([6, 4, 2], rng=0)
    assert [layer.input_grad for layer in dense.encoder.layers if hasattr(layer, "input_grad")] == [False, True]


@pytest.mark.parametrize("make, message", [
    (lambda: Conv2D(0, 2, 3), "in_channels"),
    (lambda: Conv2D(1, 2, 3, stride=0), "stride"),
    (lambda: Conv2D(1, 2, 3, padding=-1), "padding"),
    (lambda: ConvTranspose2D(1, 2, 3, stride=2, output_padding=2), "output_padding"),
    (lambda: Conv1D(1, 2, (3, 3)), "kernel_size"),
    (lambda: MaxPool2D(0), "size"),
    (lambda: ma.Autoencoder.conv((1, 6, 6)), "divisible"),
    (lambda: ma.Autoencoder.conv((1, 8, 8), up="bilinear"), "up"),
])
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_conv_forward_refuses_wrong_channels():
    with pytest.raises(ValueError, match="3, height, width"):
        Conv2D(3, 2, 3).forward(np.ones((2, 1, 5, 5)))


@pytest.mark.parametrize("up", ["upsample", "transpose"])
def test_conv_autoencoder_gradients(up):
    model = ma.Autoencoder.conv((1, 8, 8), channels=(3, 4), code_size=3, up=up, activation="tanh", rng=0)
    X = np.random.default_rng(6).uniform(0, 1, (3, 64))
    assert model.n_features == 64 and model.code_size == 3
    assert check_model(model, X, max_entries=40)  # a seeded sample of each parameter's entries


def test_conv_autoencoder_trains_on_digits():
    X = ma.datasets.load_digits()[0][:400].astype(np.float32)
    model = ma.Autoencoder.conv((1, 8, 8), rng=0, dtype=np.float32)
    before = float(np.mean(model.reconstruction_error(X)))
    history = ma.fit(model, X, epochs=5, batch_size=64, optimizer=ma.Adam(3e-3))
    assert model.theta.dtype == np.float32 and model.reconstruct(X).dtype == np.float32
    assert history.loss[-1] < 0.7 * before


def test_cli_trains_a_conv_autoencoder(tmp_path, capsys):
    out = tmp_path / "conv.npz"
    code = cli.main(["train", "conv", "--data", "digits", "--epochs", "1", "--quiet", "--out", str(out)])
    assert code == 0
    model = ma.io.load(out)
    assert isinstance(model.encoder[1], Conv2D) and model.n_features == 64


# ------------------------------------------------------------------ issue 25: sizes, rng, dtype, huge sizes
NAN, INF = float("nan"), float("inf")
SIZES_READ_EXACTLY_OR_REFUSED = [  # each was truncated, mis-read or a raw TypeError/OverflowError before
    (lambda: Conv2D(1, 2, kernel_size=3.7), "kernel_size"),
    (lambda: Conv2D(1, 2, kernel_size=3.0), "kernel_size"),
    (lambda: Conv2D(1, 2, 3, stride=NAN), "stride"),
    (lambda: Conv2D(1, 2, 3, stride=INF), "stride"),
    (lambda: Conv2D(1, None, 3), "out_channels"),
    (lambda: Conv2D("2", 2, 3), "in_channels"),
    (lambda: Conv2D(1, 2, (3, 3, 3)), "kernel_size"),
    (lambda: ConvTranspose2D(1, 2, 3, padding=1.5), "padding"),
    (lambda: ConvTranspose2D(1, 2, 3, stride=2, output_padding=NAN), "output_padding"),
    (lambda: Conv1D(1, 2, 3, stride=(1, 1)), "stride"),
    (lambda: Conv1D(1, 2, 3.5), "kernel_size"),
    (lambda: MaxPool2D(2.5), "size"),
    (lambda: MaxPool2D(2, stride="2"), "stride"),
    (lambda: Upsample2D((2, None)), r"factor\[1\]"),
    (lambda: Upsample1D(2.0), "factor"),
    (lambda: Reshape((1, 8.5, 8)), r"shape\[1\]"),
    (lambda: ma.Autoencoder.conv((1, 8.5, 8)), r"input_shape\[1\]"),
    (lambda: ma.Autoencoder.conv((1, 8, INF)), r"input_shape\[2\]"),
    (lambda: ma.Autoencoder.conv(None), "input_shape"),
    (lambda: ma.Autoencoder.conv((1, 8, 8), channels="816"), "channels"),
    (lambda: ma.Autoencoder.conv((1, 8, 8), channels=(8, NAN)), r"channels\[1\]"),
    (lambda: ma.Autoencoder.conv((1, 8, 8), channels=()), "channels"),
    (lambda: ma.Autoencoder.conv((1, 8, 8), kernel_size=(3, 3)), "kernel_size"),
    (lambda: ma.Autoencoder.conv((1, 8, 8), kernel_size=3.7), "kernel_size"),
    (lambda: ma.Autoencoder.conv((1, 8, 8), kernel_size=4), "kernel_size must be odd"),
    (lambda: ma.Autoencoder.conv((1, 8, 8), code_size=0), "code_size must be a positive integer, got 0"),
    (lambda: ma.Autoencoder.conv((1, 8, 8), code_size=8.0), "code_size"),
    (lambda: ma.Autoencoder.conv((1, 8, 8), code_size=None), "code_size"),
]


@pytest.mark.parametrize("make, name", SIZES_READ_EXACTLY_OR_REFUSED)
def test_a_size_is_read_exactly_or_refused_by_the_name_the_user_gave(make, name):
    with pytest.raises(ma.MiniaeInputError, match=name) as info:
        make()
    assert "Dense" not in str(info.value)  # the user called a conv layer or the conv builder, not Dense


def test_numpy_integers_are_sizes():
    layer = Conv2D(np.int64(1), np.int32(2), (np.int64(3), 3), stride=np.int8(1))
    assert layer.params["W"].shape == (2, 1, 3, 3) and layer.kernel_size == (3, 3)
    model = ma.Autoencoder.conv(np.array([1, 8, 8]).tolist(), channels=np.array([4]), code_size=np.int64(2), rng=0)
    assert model.config["channels"] == [4] and model.code_size == 2


@pytest.mark.parametrize("make, name", [
    (lambda: Conv2D(1, 2, 3, dtype=np.int64), "dtype"),
    (lambda: Conv2D(1, 2, 3, dtype=bool), "dtype"),
    (lambda: ConvTranspose2D(1, 2, 3, dtype=np.complex128), "dtype"),
    (lambda: Conv1D(1, 2, 3, dtype="int32"), "dtype"),
    (lambda: ma.Autoencoder.conv((1, 8, 8), dtype=np.int64), "dtype"),
    (lambda: Conv2D(1, 2, 3, rng="seed"), "rng"),
    (lambda: ConvTranspose2D(1, 2, 3, rng=1.5), "rng"),
    (lambda: Conv1D(1, 2, 3, rng=-1), "rng"),
    (lambda: ma.Autoencoder.conv((1, 8, 8), rng=[0]), "rng"),
    (lambda: ma.layers.Dense(3, 2, rng="seed"), "rng"),
])
def test_conv_rng_and_dtype_are_checked_as_in_the_dense_code(make, name):
    with pytest.raises(ma.MiniaeInputError, match=name):
        make()


def test_conv_refuses_an_output_activation_that_contradicts_a_logits_loss():
    with pytest.raises(ma.MiniaeInputError, match="needs output='identity'"):
        ma.Autoencoder.conv((1, 8, 8), loss="bce_logits")  # the default output is a sigmoid
    model = ma.Autoencoder.conv((1, 8, 8), loss="bce_logits", output="identity", rng=0)
    recon = model.reconstruct(np.random.default_rng(0).uniform(0, 1, (3, 64)))
    assert np.all((recon > 0) & (recon < 1))  # the loss's own sigmoid, once


@pytest.mark.parametrize("make, name", [
    (lambda: ma.Autoencoder.conv((1, 8, 8), channels=(10 ** 9,)), "channels"),
    (lambda: ma.Autoencoder.conv((1, 8, 8), channels=(8, 10 ** 6)), "channels"),
    (lambda: ma.Autoencoder.conv((1, 8, 8), code_size=10 ** 12), "code_size"),
    (lambda: ma.Autoencoder.conv((1, 2 ** 20, 2 ** 20), channels=(1,), code_size=1), "input_shape"),
    (lambda: Conv2D(1, 10 ** 9, 3), "Conv2D"),
    (lambda: ConvTranspose2D(10 ** 5, 10 ** 5, 3), "ConvTranspose2D"),
    (lambda: Conv1D(1, 2, 10 ** 9), "Conv1D"),
    (lambda: ma.layers.Dense(4, 10 ** 12), "Dense"),
    (lambda: ma.Autoencoder.mirrored([4, 10 ** 12]), "sizes"),
    (lambda: ma.VAE.mirrored([4, 10 ** 6, 10 ** 6]), "sizes"),
])
def test_absurd_sizes_are_refused_by_name_before_numpy_allocates(make, name):
    with pytest.raises(ma.MiniaeInputError, match=f"{name}.*more than miniae's limit"):
        make()


def test_conv_training_at_an_absurd_rate_is_stopped():
    """Adam(lr=1e6): the sigmoid output keeps the loss bounded, so only the weights show it (3e6 after one epoch)."""
    X = ma.datasets.load_digits()[0][:200]
    model = ma.Autoencoder.conv((1, 8, 8), rng=0)
    start = model.theta.copy()
    with pytest.raises(ma.DivergenceError, match="the largest weight grew"):
        ma.fit(model, X, epochs=3, optimizer=ma.Adam(1e6))
    assert np.array_equal(model.theta, start)


@pytest.mark.parametrize("c_in, c_out, kernel, padding", [(3, 2, 3, 1), (4, 1, 3, 0), (5, 2, (3, 5), (2, 1)),
                                                           (2, 1, 1, 0), (6, 3, 5, 4)])
def test_stride_one_dx_by_the_full_convolution_equals_col2im_and_passes_the_gradient_check(c_in, c_out, kernel,
                                                                                          padding):
    """With fewer output than input channels, a stride-1 Conv2D computes dx as the full convolution of dy
    with the flipped kernel: the same numbers as col2im(dy_mat @ W_mat), and right by finite differences."""
    from miniae.layers import col2im, full_convolution
    rng = np.random.default_rng(3)
    layer = Conv2D(c_in, c_out, kernel, padding=padding, rng=0)
    x = rng.standard_normal((2, c_in, 7, 6))
    dy = rng.standard_normal(layer.forward(x).shape)
    dy_mat = dy.transpose(0, 2, 3, 1).reshape(-1, c_out)
    (ph, pw), (_, _, h, w) = layer.padding, x.shape
    by_col2im = col2im(dy_mat @ layer.params["W"].reshape(c_out, -1), layer.padded_shape, layer.kernel_size,
                       (1, 1))[:, :, ph:ph + h, pw:pw + w]
    assert np.allclose(full_convolution(dy, layer.params["W"], layer.padding), by_col2im, rtol=1e-12, atol=1e-12)
    assert np.allclose(layer.backward(dy), by_col2im, rtol=1e-12, atol=1e-12)
    assert check_layer(layer, x)


def test_conv1d_with_fewer_output_channels_takes_the_full_convolution_road_and_passes_the_check():
    layer = Conv1D(4, 2, 5, padding=2, rng=0)
    assert check_layer(layer, np.random.default_rng(0).standard_normal((3, 4, 11)))
