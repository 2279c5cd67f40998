"""miniae.io: bit-identical save/load for every model kind, refusal of bad files, data files."""
import json
import pickle
import re
import tracemalloc

import numpy as np
import pytest

from miniae import io, layers, noise, penalties
from miniae.models import Autoencoder
from miniae.train import fit
from miniae.vae import VAE
from miniae.validation import MiniaeInputError


def _vae(rng, **kwargs):
    return VAE.mirrored([6, 5, 2], rng=rng, **kwargs)


def _contractive(rng):
    return Autoencoder.mirrored([6, 3], code_activation="sigmoid", penalties=[penalties.Contractive(0.1)], rng=rng)


MODEL_KINDS = {
    "plain_relu": lambda rng: Autoencoder.mirrored([6, 5, 2], rng=rng),
    "linear": lambda rng: Autoencoder.linear(6, 2, rng=rng),
    "leaky_relu_deep": lambda rng: Autoencoder.mirrored([6, 5, 4, 2], activation="leaky_relu", rng=rng),
    "bce_sigmoid_output": lambda rng: Autoencoder.mirrored([6, 4, 2], activation="tanh", output="sigmoid",
                                                           loss="bce", rng=rng),
    "bce_logits_softplus": lambda rng: Autoencoder.mirrored([6, 4, 2], activation="softplus",
                                                            loss="bce_logits", rng=rng),
    "l1_sparsity": lambda rng: Autoencoder.mirrored([6, 8], penalties=[penalties.L1Sparsity(0.05)], rng=rng),
    "kl_sparsity": lambda rng: Autoencoder.mirrored([6, 8], code_activation="sigmoid",
                                                    penalties=[penalties.KLSparsity(0.1, 2.0)], rng=rng),
    "weight_decay": lambda rng: Autoencoder.mirrored([6, 4, 2], penalties=[penalties.WeightDecay(1e-2)], rng=rng),
    "ordered_weight_decay": lambda rng: Autoencoder.linear(
        6, 3, penalties=[penalties.OrderedWeightDecay([0.0, 0.01, 0.02])], rng=rng),
    "contractive": _contractive,
    "gaussian_noise": lambda rng: Autoencoder.mirrored([6, 4, 2], noise=noise.GaussianNoise(0.2), rng=rng),
    "masking_noise": lambda rng: Autoencoder.mirrored([6, 4, 2], noise=noise.MaskingNoise(0.3), rng=rng),
    "salt_pepper_noise": lambda rng: Autoencoder.mirrored([6, 4, 2], noise=noise.SaltPepperNoise(0.2), rng=rng),
    "float32": lambda rng: Autoencoder.mirrored([6, 4, 2], rng=rng, dtype=np.float32),
    "vae_bernoulli": lambda rng: _vae(rng, likelihood="bernoulli"),
    "vae_gaussian": lambda rng: _vae(rng, likelihood="gaussian"),
    "vae_learned_std_beta_4": lambda rng: _vae(rng, likelihood="gaussian", output_std="learned", beta=4.0),
}


@pytest.fixture
def data():
    return np.random.default_rng(1).uniform(0, 1, (40, 6))


def _weights(model):
    return [(name, value) for name, value, _ in model.named_parameters()]


def _assert_same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    assert [n for n, _ in wa] == [n for n, _ in wb]
    for (name, x), (_, y) in zip(wa, wb):
        assert x.dtype == y.dtype, name
        assert np.array_equal(x, y), name


def trained_and_reloaded(kind, seed, data, tmp_path):
    """A model of this kind trained for 2 epochs, and its copy through save and load."""
    model = MODEL_KINDS[kind](seed)
    fit(model, data, epochs=2, batch_size=16)
    io.save(model, tmp_path / "model.npz")
    return model, io.load(tmp_path / "model.npz")


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_round_trip_is_bit_identical(kind, data, tmp_path):
    model, loaded = trained_and_reloaded(kind, 3, data, tmp_path)
    assert type(loaded) is type(model)
    _assert_same_weights(model, loaded)
    assert repr(loaded) == repr(model)
    assert loaded.config == model.config
    assert np.array_equal(loaded.encode(data), model.encode(data))
    assert np.array_equal(loaded.reconstruct(data), model.reconstruct(data))


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_loaded_model_continues_training_exactly_like_the_original(kind, data, tmp_path):
    """The rng state is saved too, so shuffling and noise continue where they left off."""
    model, loaded = trained_and_reloaded(kind, 4, data, tmp_path)
    error_at_load = np.mean((loaded.reconstruct(data) - data) ** 2)
    histories = {}
    for name, m in (("original", model), ("loaded", loaded)):
        histories[name] = fit(m, data, epochs=1, batch_size=16)["loss"] + fit(m, data, epochs=30, batch_size=16)["loss"]
    assert np.mean((loaded.reconstruct(data) - data) ** 2) < error_at_load  # it keeps learning
    assert histories["loaded"] == histories["original"]  # exactly as the original would have
    _assert_same_weights(model, loaded)


def test_save_writes_exactly_the_given_path(data, tmp_path):
    model = MODEL_KINDS["plain_relu"](0)
    io.save(model, tmp_path / "weights.bin")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.bin"]
    assert np.array_equal(io.load(tmp_path / "weights.bin").encode(data), model.encode(data))


def test_file_holds_json_description_and_no_objects(tmp_path):
    io.save(MODEL_KINDS["l1_sparsity"](0), tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        assert all(archive[key].dtype != object for key in archive.files)
        description = json.loads(archive[io.DESCRIPTION_KEY].item())
    assert description["version"] == io.VERSION
    assert description["penalties"] == [{"type": "L1Sparsity", "config": {"lam": 0.05}}]
    assert [layer["type"] for layer in description["encoder"]["layers"]] == ["Dense"]


# ------------------------------------------------------------------ files that must be refused
def _rewrite(path, change):
    """Rewrite a saved model with change(arrays) applied (arrays: dict of the archive's entries)."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    change(arrays)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)  # np.savez pickles object arrays: that is what we test against


def _set_description(key, value):
    def change(arrays):
        description = json.loads(arrays[io.DESCRIPTION_KEY].item())
        description[key] = value
        arrays[io.DESCRIPTION_KEY] = np.array(json.dumps(description))
    return change


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.npz"
    io.save(MODEL_KINDS["plain_relu"](0), path)
    return path


def test_pickled_object_in_file_is_refused(saved):
    _rewrite(saved, lambda arrays: arrays.update({"param/encoder.0.W": np.array([{"evil": 1}], dtype=object)}))
    with pytest.raises(io.ModelFileError, match="pickled object"):
        io.load(saved)


def test_a_pickle_file_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps({"weights": [1.0, 2.0]}))
    with pytest.raises(io.ModelFileError, match="not a miniae model file"):
        io.load(path)


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_file_is_refused(saved, keep):
    content = saved.read_bytes()
    saved.write_bytes(content[:int(keep * len(content))])
    with pytest.raises(io.ModelFileError, match="damaged or truncated"):
        io.load(saved)


def test_other_format_version_is_refused(saved):
    _rewrite(saved, _set_description("version", io.VERSION + 1))
    with pytest.raises(io.ModelFileError, match=f"version {io.VERSION + 1}.*reads version {io.VERSION} only"):
        io.load(saved)


def test_npz_not_written_by_miniae_is_refused(tmp_path):
    np.savez(tmp_path / "other.npz", W=np.ones((3, 3)))
    with pytest.raises(io.ModelFileError, match="no 'miniae.json' entry"):
        io.load(tmp_path / "other.npz")


def test_other_json_format_is_refused(saved):
    _rewrite(saved, _set_description("format", "keras"))
    with pytest.raises(io.ModelFileError, match="format is 'keras'"):
        io.load(saved)


def test_weights_that_do_not_fit_the_description_are_refused(saved):
    _rewrite(saved, lambda arrays: arrays.update({"param/encoder.0.W": np.ones((2, 2))}))
    with pytest.raises(io.ModelFileError, match=r"encoder.0.W has shape \(2, 2\)"):
        io.load(saved)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file"):
        io.load(tmp_path / "nope.npz")


def test_model_errors_are_value_errors():
    assert issubclass(io.ModelFileError, MiniaeInputError) and issubclass(io.ModelFileError, ValueError)


def test_unknown_layer_cannot_be_saved(tmp_path):
    from miniae.layers import Layer, Sequential

    class Custom(Layer):
        pass

    model = Autoencoder(Sequential(Custom()), Sequential(Custom()))
    with pytest.raises(MiniaeInputError, match="cannot save a layer of type Custom"):
        io.save(model, tmp_path / "m.npz")


# ------------------------------------------------------------------ data files
def test_read_data_npy_and_csv(tmp_path):
    X = np.random.default_rng(0).normal(size=(7, 3))
    np.save(tmp_path / "x.npy", X)
    np.savetxt(tmp_path / "x.csv", X, delimiter=",")
    assert np.array_equal(io.read_data(tmp_path / "x.npy"), X)
    assert np.allclose(io.read_data(tmp_path / "x.csv"), X, rtol=1e-15, atol=0)


@pytest.mark.parametrize("text, fragment", [
    ("a,b,c\n1,2,3\n", "line 1 column 1 is 'a', not a number (a header row"),
    ("1,2,3\n4,,6\n", "line 2 column 2 is empty (a missing value)"),
    ("1,2,3\n4,5\n", "line 2 has 2 values but the first row has 3"),
    ("1,2,3\n4,nan,6\n", "1 NaN or infinite value"),
    ("1,2,3\n4,NA,6\n", "line 2 column 2 is 'NA', not a number"),
    ("\n\n", "holds no data"),
    ("1;2;3\n4;5;6\n", "is '1;2;3', not a number (separate values with commas)"),
])
def test_read_data_refuses_bad_csv(tmp_path, text, fragment):
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(MiniaeInputError, match=re.escape(fragment)):
        io.read_data(tmp_path / "bad.csv")


def test_read_data_accepts_a_spreadsheet_bom_and_refuses_binary(tmp_path):
    (tmp_path / "bom.csv").write_bytes("\ufeff1,2\n3,4\n".encode("utf-8"))
    assert np.array_equal(io.read_data(tmp_path / "bom.csv"), [[1.0, 2.0], [3.0, 4.0]])
    (tmp_path / "binary.csv").write_bytes(bytes(range(128, 256)))
    with pytest.raises(MiniaeInputError, match="not a text file"):
        io.read_data(tmp_path / "binary.csv")


def test_read_data_refuses_images_pickles_and_unknown_suffixes(tmp_path):
    np.save(tmp_path / "images.npy", np.zeros((4, 8, 8)))
    with pytest.raises(MiniaeInputError, match=r"must be 2-D .* got 3-D"):
        io.read_data(tmp_path / "images.npy")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(MiniaeInputError, match="pickled objects"):
        io.read_data(tmp_path / "objects.npy")
    (tmp_path / "data.xlsx").write_bytes(b"PK")
    with pytest.raises(MiniaeInputError, match="must be .npy or .csv"):
        io.read_data(tmp_path / "data.xlsx")


def test_config_that_is_not_json_cannot_be_saved(tmp_path):
    model = MODEL_KINDS["plain_relu"](0)
    model.config["mean"] = np.zeros(3)
    with pytest.raises(MiniaeInputError, match="cannot describe this model as JSON"):
        io.save(model, tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())  # nothing half-written


# ------------------------------------------------------------------ issue 16: every load failure is a ModelFileError
def _nested(depth):
    spec = {"type": "Dense", "n_in": 6, "n_out": 4}
    for _ in range(depth):
        spec = {"type": "Sequential", "layers": [spec]}
    return spec


@pytest.mark.parametrize("key, value, fragment", [
    ("encoder", _nested(100), "nests layers more than 64 deep"),
    ("encoder", {"type": "Dense", "n_in": 10 ** 12, "n_out": 4}, "the description needs"),  # no MemoryError
    ("encoder", {"type": "Dense", "n_in": 1e12, "n_out": 4}, "expected positive integers"),
    ("encoder", {"type": "Dense", "n_in": 6}, "expected positive integers"),
    ("encoder", "Dense", "is not a JSON object"),
    ("penalties", [{"type": "Penalty", "config": {}}], "penalty of unknown type 'Penalty'"),
    ("noise", {"type": "Noise", "config": {}}, "noise of unknown type 'Noise'"),
    ("noise", {"type": "GaussianNoise", "config": {"sigma": -1}}, "sigma must be a finite number >= 0"),
    ("rng", {"bit_generator": "PCG64", "state": "x"}, "invalid model description"),
    ("dtype", "int64", "is not float32 or float64"),
    ("loss", {"type": "BCE", "from_logits": "yes", "eps": 1e-7}, "from_logits must be True or False"),
])
def test_a_broken_description_is_a_model_file_error(saved, key, value, fragment):
    _rewrite(saved, _set_description(key, value))
    with pytest.raises(io.ModelFileError, match=re.escape(fragment)) as info:
        io.load(saved)
    assert "\n" not in str(info.value)


def test_a_3000_deep_description_is_a_model_file_error(saved):
    deep = '{"type": "Sequential", "layers": [' * 3000 + '{"type": "ReLU"}' + "]}" * 3000  # json.dumps can't

    def change(arrays):
        description = json.loads(arrays[io.DESCRIPTION_KEY].item())
        description["encoder"] = "DEEP"
        arrays[io.DESCRIPTION_KEY] = np.array(json.dumps(description).replace('"DEEP"', deep))
    _rewrite(saved, change)
    with pytest.raises(io.ModelFileError, match="not valid JSON|more than 64 deep"):
        io.load(saved)


def test_non_finite_stored_weights_are_refused(saved):
    def change(arrays):
        arrays[io.PARAM_PREFIX + "encoder.0.W"][0, 0] = np.nan
    _rewrite(saved, change)
    with pytest.raises(io.ModelFileError, match="encoder.0.W holds NaN or infinite values"):
        io.load(saved)


def test_a_corrupted_zip_version_field_is_a_model_file_error(saved):
    raw = bytearray(saved.read_bytes())
    central = raw.find(b"PK\x01\x02")  # the central directory's first entry: its "version needed" field
    raw[central + 6:central + 8] = b"\xff\x00"
    raw[4:6] = b"\xff\x00"  # and the local header's
    saved.write_bytes(bytes(raw))
    with pytest.raises(io.ModelFileError):
        io.load(saved)


def test_save_never_touches_a_users_file_named_like_a_temporary(tmp_path):
    user_file = tmp_path / "m.npz.tmp"
    user_file.write_text("my notes")
    io.save(Autoencoder.mirrored([6, 2], rng=0), tmp_path / "m.npz")
    assert user_file.read_text() == "my notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz", "m.npz.tmp"]  # no temporary left behind


@pytest.mark.parametrize("text, fragment", [
    ("1,2\n,\n", "line 2 column 1 is empty"),
    ("1,2\n1_000,3\n", "line 2 column 1 is '1_000', not a number"),
    ("1,2\n\uff13,4\n", "line 2 column 1 is '\uff13', not a number"),
    ("1,2\n0x10,4\n", "line 2 column 1 is '0x10', not a number"),
])
def test_csv_reader_is_as_strict_as_numpy_loadtxt(tmp_path, text, fragment):
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError):
        np.loadtxt(path, delimiter=",", encoding="utf-8")
    with pytest.raises(MiniaeInputError, match=re.escape(fragment)):
        io.read_data(path)


def test_csv_reader_reads_what_numpy_loadtxt_reads(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("1,-2.5\n\n.5,3e-2\n+4,5.\n", encoding="utf-8")
    assert np.array_equal(io.read_data(path), np.loadtxt(path, delimiter=",", ndmin=2))


@pytest.mark.parametrize("up", ["upsample", "transpose"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv_autoencoder_round_trips_bit_exactly(tmp_path, up, dtype):
    model = Autoencoder.conv((1, 8, 8), channels=(3, 4), code_size=3, up=up, rng=0, dtype=dtype)
    model.theta[...] = np.random.default_rng(0).standard_normal(model.theta.size)  # not the fresh init
    io.save(model, tmp_path / "conv.npz")
    loaded = io.load(tmp_path / "conv.npz")
    assert repr(loaded) == repr(model) and loaded.config == model.config
    assert loaded.theta.dtype == model.theta.dtype and np.array_equal(loaded.theta, model.theta)
    X = np.random.default_rng(1).uniform(0, 1, (4, 64)).astype(dtype)
    assert np.array_equal(loaded.reconstruct(X), model.reconstruct(X))


# ------------------------------------------------------------------ issue 25: every layer kind is bounded
@pytest.fixture
def saved_conv(tmp_path):
    path = tmp_path / "conv.npz"
    io.save(Autoencoder.conv((1, 8, 8), channels=(2,), code_size=2, rng=0), path)
    return path


def _set_encoder_layer(index, spec):
    def change(arrays):
        description = json.loads(arrays[io.DESCRIPTION_KEY].item())
        description["encoder"]["layers"][index] = spec
        arrays[io.DESCRIPTION_KEY] = np.array(json.dumps(description))
    return change


CONV = {"type": "Conv2D", "in_channels": 1, "out_channels": 2, "kernel_size": [3, 3], "stride": [1, 1],
        "padding": [1, 1]}


@pytest.mark.parametrize("index, spec, fragment", [
    (1, {**CONV, "in_channels": 1000, "out_channels": 3000},
     "the description needs 27003181 weights but the file stores 201"),
    (1, {**CONV, "type": "ConvTranspose2D", "in_channels": 3000, "out_channels": 1000, "output_padding": [0, 0]},
     "the description needs"),
    (1, {**CONV, "kernel_size": [3.7, 3]}, "kernel_size[0] must be a positive integer, got 3.7"),
    (1, {**CONV, "out_channels": "2"}, "out_channels must be a positive integer"),
    (1, {**CONV, "stride": [1.5, 1]}, "stride[0] must be a positive integer"),
    (0, {"type": "Reshape", "shape": [1, 8.5, 8]}, "shape[1] must be a positive integer, got 8.5"),
    (0, {"type": "Reshape", "shape": [1, 8.0, 8]}, "shape[1] must be a positive integer, got 8.0"),
    (3, {"type": "MaxPool2D", "size": [2, None], "stride": [2, 2]}, "size[1] must be a positive integer"),
])
def test_a_crafted_conv_description_is_refused_before_allocating(saved_conv, index, spec, fragment):
    _rewrite(saved_conv, _set_encoder_layer(index, spec))
    tracemalloc.start()
    try:
        with pytest.raises(io.ModelFileError, match=re.escape(fragment)) as info:
            io.load(saved_conv)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2 ** 20  # the 27-million-weight Conv2D allocated about 960 MB before it was refused
    assert "\n" not in str(info.value)


def test_a_conv_model_file_round_trips(saved_conv):
    model = io.load(saved_conv)
    assert isinstance(model.encoder[1], layers.Conv2D) and model.n_features == 64 and model.code_size == 2


def test_saving_into_a_missing_folder_names_the_users_path(tmp_path):
    path = tmp_path / "no such folder" / "m.npz"
    with pytest.raises(FileNotFoundError, match="the folder .*no such folder does not exist") as info:
        io.save(Autoencoder.mirrored([4, 2], rng=0), path)
    assert ".tmp" not in str(info.value) and str(path) in str(info.value)
