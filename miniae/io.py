"""Saving and loading models, and reading data files, without pickle.

A model file is one ``.npz`` archive holding::

    "miniae.json"        a JSON text: format name and version, the model's kind, every layer
                         of each Sequential (type, sizes, activation), the loss, the penalties
                         and the noise (through their ``config()``), the builder's ``config``,
                         and the state of ``model.rng`` (so training continues exactly);
    "param/<name>"       one array per parameter, named as in ``model.named_parameters()``.

It is read with ``np.load(path, allow_pickle=False)``: a file that would need pickle to
load (and so could run code) is refused, as is a truncated file, a file of another format
version, or an archive that miniae did not write.  Data files (.npy, .csv) are read by
``read_data`` with the same care.
"""
import csv
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from . import layers, losses, noise, penalties, recurrent
from .layers import Activation, Dense, Sequential
from .models import Autoencoder
from .vae import VAE
from .validation import MiniaeInputError, check_data, check_float_dtype, check_size, check_size_pair

FORMAT = "miniae-model"
VERSION = 1
DESCRIPTION_KEY = "miniae.json"
PARAM_PREFIX = "param/"
MAX_DEPTH = 64  # nested Sequentials a model file may describe (a real model has 2 or 3)
MAX_EXTRA_WEIGHTS = 10 ** 7  # how many more weights than it stores a description may ask for (80 MB in float64)


class ModelFileError(MiniaeInputError):
    """A file given to ``miniae.io.load`` is not a model file this version of miniae can read."""


# ------------------------------------------------------------------ describing parts as JSON
def describe_layer(layer):
    """A JSON-able dict for a layer: its type and what its constructor needs (not its weights)."""
    if isinstance(layer, Sequential):
        return {"type": "Sequential", "layers": [describe_layer(inner) for inner in layer.layers]}
    if isinstance(layer, Dense):
        return {"type": "Dense", "n_in": layer.n_in, "n_out": layer.n_out}
    if isinstance(layer, layers.LeakyReLU):
        return {"type": "LeakyReLU", "slope": layer.slope}
    if isinstance(layer, Activation) and type(layer).__name__ in _LAYER_TYPES:
        return {"type": type(layer).__name__}
    if isinstance(layer, recurrent.TimeDistributed):
        return {"type": "TimeDistributed", "layer": describe_layer(layer.layer)}
    if type(layer) in _SHAPE_LAYERS.values():  # convolution, pooling, reshaping, recurrent: their config()
        return {"type": type(layer).__name__, **layer.config()}
    raise MiniaeInputError(
        f"miniae.io cannot save a layer of type {type(layer).__name__}; it knows Sequential, Dense "
        f"and the activations {sorted(n for n in _LAYER_TYPES if n not in ('Sequential', 'Dense'))}, "
        f"and {sorted(_SHAPE_LAYERS)}"
    )


def build_layer(spec, dtype):
    """The inverse of ``describe_layer``: a fresh layer (weights are filled in afterwards)."""
    kind = spec["type"]
    if kind == "Sequential":
        return Sequential(*[build_layer(inner, dtype) for inner in spec["layers"]])
    if kind == "Dense":
        return Dense(spec["n_in"], spec["n_out"], rng=0, dtype=dtype)
    if kind == "LeakyReLU":
        return layers.LeakyReLU(spec["slope"])
    if kind in _LAYER_TYPES:
        return _LAYER_TYPES[kind]()
    if kind == "TimeDistributed":
        return recurrent.TimeDistributed(build_layer(spec["layer"], dtype))
    if kind in _SHAPE_LAYERS:
        cls = _SHAPE_LAYERS[kind]
        config = {key: value for key, value in spec.items() if key != "type"}
        if issubclass(cls, (layers.Conv2D, layers.ConvTranspose2D, recurrent.RNN, recurrent.LSTM)):  # with weights
            config.update(rng=0, dtype=dtype)
        return cls(**config)
    raise ModelFileError(f"the file describes a layer of unknown type {kind!r}")


_LAYER_TYPES = {cls.__name__: cls for cls in
                (Sequential, Dense, layers.Identity, layers.ReLU, layers.LeakyReLU,
                 layers.Sigmoid, layers.Tanh, layers.Softplus)}
_SHAPE_LAYERS = {cls.__name__: cls for cls in
                 (layers.Conv2D, layers.ConvTranspose2D, layers.Conv1D, layers.MaxPool2D, layers.Upsample2D,
                  layers.Upsample1D, layers.Reshape, layers.Flatten, recurrent.RNN, recurrent.LSTM,
                  recurrent.RepeatVector)}


def describe_loss(loss):
    """The JSON-able description of an MSE or BCE loss (its type and arguments)."""
    if isinstance(loss, losses.BCE):
        return {"type": "BCE", "from_logits": loss.from_logits, "eps": loss.eps}
    if isinstance(loss, losses.MSE):
        return {"type": "MSE"}
    raise MiniaeInputError(f"miniae.io cannot save a loss of type {type(loss).__name__}; it knows MSE and BCE")


def build_loss(spec):
    """The loss that ``describe_loss`` described."""
    if spec["type"] == "BCE":
        return losses.BCE(from_logits=spec["from_logits"], eps=spec["eps"])
    if spec["type"] == "MSE":
        return losses.MSE()
    raise ModelFileError(f"the file describes a loss of unknown type {spec['type']!r}")


def _describe_configurable(obj, module, what):
    """{"type": class name, "config": obj.config()} for a penalty or a noise defined in ``module``."""
    name = type(obj).__name__
    if getattr(module, name, None) is not type(obj):
        raise MiniaeInputError(f"miniae.io cannot save a {what} of type {name}: it is not defined in {module.__name__}")
    return {"type": name, "config": obj.config()}


def _build_configurable(spec, module, base, what):
    registry = {"penalty": penalties.PENALTIES, "noise": noise.NOISES}[what]
    cls = registry.get(spec["type"]) if isinstance(spec["type"], str) else None
    if not (isinstance(cls, type) and issubclass(cls, base) and cls is not base):
        raise ModelFileError(f"the file describes a {what} of unknown type {spec['type']!r} "
                             f"(not in {module.__name__} of this miniae)")
    return cls(**spec["config"])


def describe_rng(rng):
    """The bit generator's name and state (plain ints and strings, so JSON holds it exactly)."""
    return rng.bit_generator.state


def build_rng(state):
    """A numpy Generator in the state that ``describe_rng`` recorded."""
    bit_generator = getattr(np.random, state["bit_generator"], None)
    if bit_generator is None:
        raise ModelFileError(f"the file's random generator {state['bit_generator']!r} is unknown to NumPy")
    rng = np.random.Generator(bit_generator())
    rng.bit_generator.state = state
    return rng


# ------------------------------------------------------------------ models
def describe_model(model):
    """The JSON-able description of a model: everything but the weights."""
    description = {"format": FORMAT, "version": VERSION, "kind": type(model).__name__,
                   "dtype": np.dtype(model.dtype).name, "config": dict(model.config),
                   "rng": describe_rng(model.rng)}
    if isinstance(model, Autoencoder):
        description.update(
            encoder=describe_layer(model.encoder),
            decoder=describe_layer(model.decoder),
            loss=describe_loss(model.loss),
            penalties=[_describe_configurable(p, penalties, "penalty") for p in model.penalties],
            noise=None if model.noise is None else _describe_configurable(model.noise, noise, "noise"),
        )
        return description
    if isinstance(model, VAE):
        description.update(
            body=describe_layer(model.body),
            mu_head=describe_layer(model.mu_head),
            logvar_head=describe_layer(model.logvar_head),
            decoder=describe_layer(model.decoder),
            likelihood=model.likelihood.config(),  # {"likelihood": name, "output_std": ...}
            beta=model.beta,  # the current value (a KL warm-up changes it during training)
        )
        return description
    raise MiniaeInputError(f"miniae.io can save an Autoencoder or a VAE, got {type(model).__name__}")


def build_model(description):
    """A fresh model with the architecture of ``description`` (weights still random)."""
    kind, dtype = description["kind"], np.dtype(description["dtype"])
    if kind == "Autoencoder":
        model = Autoencoder(
            build_layer(description["encoder"], dtype),
            build_layer(description["decoder"], dtype),
            loss=build_loss(description["loss"]),
            penalties=[_build_configurable(s, penalties, penalties.Penalty, "penalty")
                       for s in description["penalties"]],
            noise=(None if description["noise"] is None
                   else _build_configurable(description["noise"], noise, noise.Noise, "noise")),
        )
    elif kind == "VAE":
        parts = [build_layer(description[part], dtype) for part in ("body", "mu_head", "logvar_head", "decoder")]
        likelihood = description["likelihood"]
        model = VAE(*parts, likelihood=likelihood["likelihood"], beta=description["beta"],
                          output_std=likelihood.get("output_std", 1.0))
    else:
        raise ModelFileError(f"the file holds a model of unknown kind {kind!r}")
    model.config = dict(description["config"])
    model.rng = build_rng(description["rng"])
    return model


# ------------------------------------------------------------------ save / load
def save(model, path):
    """Write ``model`` (weights, architecture, hyperparameters, rng state) to ``path`` (.npz).

    The file is written exactly at ``path`` (no suffix is added), through a temporary file
    renamed into place, so an interrupted save never leaves half a file behind.
    """
    path = Path(path)
    if not path.parent.is_dir():  # checked here, or the error would name the temporary file below
        raise FileNotFoundError(f"cannot save to {path}: the folder {path.parent} does not exist")
    description = describe_model(model)
    arrays = {PARAM_PREFIX + name: value for name, value, _ in model.named_parameters()}
    try:
        text = json.dumps(description)
    except TypeError as exc:  # e.g. a penalty whose config() holds an array
        raise MiniaeInputError(f"miniae.io cannot describe this model as JSON ({exc}); every config() must "
                               "hold plain numbers, strings, lists and dicts") from None
    arrays[DESCRIPTION_KEY] = np.array(text)
    # a temporary file of our own making (mkstemp picks a name no other file has), in the same
    # folder so that os.replace is an atomic rename
    handle_fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp)
    try:
        with os.fdopen(handle_fd, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def load(path):
    """Read a model written by ``save``.  Returns a model ready to use or to train further.

    Raises FileNotFoundError for a missing file and ``ModelFileError`` (a ValueError) for a
    file that is not a complete miniae model of a format version this miniae reads, or that
    holds a pickled object.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic != b"PK\x03\x04":
        raise ModelFileError(f"{path} is not a miniae model file (not an .npz archive; "
                             "model files are written by miniae.io.save)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if DESCRIPTION_KEY not in archive.files:
                raise ModelFileError(f"{path} is an .npz archive but not a miniae model file "
                                     f"(it has no {DESCRIPTION_KEY!r} entry)")
            arrays = {key: archive[key] for key in archive.files}
    except ModelFileError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc):
            raise ModelFileError(f"{path} contains a pickled object; miniae refuses to load it because "
                                 "unpickling can run arbitrary code (model files never need pickle)") from None
        raise ModelFileError(f"{path} is damaged or truncated ({_one_line(exc)})") from None
    except Exception as exc:  # noqa: BLE001 -- zip errors, EOF, OS errors, a corrupted version field, sizes...
        raise ModelFileError(f"{path} is damaged or truncated ({_one_line(exc)})") from None

    description = _read_description(arrays.pop(DESCRIPTION_KEY), path)
    try:
        _check_sizes_described(description, arrays, path)
        model = build_model(description)
        _fill_weights(model, arrays, path)
    except ModelFileError:
        raise
    except Exception as exc:  # noqa: BLE001 -- whatever a hand-edited description breaks is the file's fault
        raise ModelFileError(f"{path} has an invalid model description ({_one_line(exc)})") from None
    return model


def _one_line(exc, limit=200):
    """An exception as 'Type: message' on one line, cut at ``limit`` characters."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[:limit] + "..."


def _check_sizes_described(description, arrays, path):
    """Refuse a description whose layers are nested deeper than MAX_DEPTH or whose layers (Dense and the
    convolutions) need more numbers than the file stores, before anything is allocated (n_in = 10^12,
    or a Conv2D of 27 million weights in a file that stores a few hundred, is refused here)."""
    stored = sum(int(array.size) for array in arrays.values())
    dtype = description.get("dtype")
    try:
        check_float_dtype(dtype)
    except (MiniaeInputError, TypeError):
        raise ModelFileError(f"{path}: the model's dtype {dtype!r} is not float32 or float64") from None

    def count(spec, depth):
        if depth > MAX_DEPTH:
            raise ModelFileError(f"{path}: the model description nests layers more than {MAX_DEPTH} deep")
        if not isinstance(spec, dict):
            raise ModelFileError(f"{path}: a layer description is not a JSON object: {str(spec)[:60]!r}")
        if spec.get("type") == "Sequential":
            inner = spec.get("layers")
            if not isinstance(inner, list):
                raise ModelFileError(f"{path}: a Sequential layer has no list of layers")
            return sum(count(layer, depth + 1) for layer in inner)
        try:
            return _weight_count(spec)
        except MiniaeInputError as exc:
            raise ModelFileError(f"{path}: a {spec.get('type')} layer has a bad size ({exc}); "
                                 "expected positive integers") from None

    parts = ("encoder", "decoder") if description.get("kind") == "Autoencoder" else (
        "body", "mu_head", "logvar_head", "decoder")
    needed = sum(count(description.get(part), 1) for part in parts)
    if needed > stored + MAX_EXTRA_WEIGHTS:  # a small mismatch is reported, parameter by parameter, later
        raise ModelFileError(f"{path}: the description needs {needed} weights but the file stores {stored}; "
                             "the file is damaged or was edited")


def _weight_count(spec):
    """How many weights the layer described by ``spec`` has (0 for a layer without weights), read with
    the checks of the layers themselves, so a size that is not a positive integer is refused here."""
    kind = spec.get("type")
    if kind == "Dense":
        n_in, n_out = check_size(spec.get("n_in"), "n_in"), check_size(spec.get("n_out"), "n_out")
        return n_in * n_out + n_out
    if kind in ("Conv2D", "ConvTranspose2D", "Conv1D"):
        c_in = check_size(spec.get("in_channels"), "in_channels")
        c_out = check_size(spec.get("out_channels"), "out_channels")
        if kind == "Conv1D":
            kernel = check_size(spec.get("kernel_size"), "kernel_size")
        else:
            kh, kw = check_size_pair(spec.get("kernel_size"), "kernel_size")
            kernel = kh * kw
        return c_in * c_out * kernel + c_out
    if kind in ("RNN", "LSTM"):
        n_in, hidden = check_size(spec.get("n_in"), "n_in"), check_size(spec.get("n_hidden"), "n_hidden")
        return (n_in + hidden + 1) * (4 if kind == "LSTM" else 1) * hidden
    if kind == "TimeDistributed":
        inner = spec.get("layer")
        if not isinstance(inner, dict) or inner.get("type") in ("Sequential", "TimeDistributed"):
            raise MiniaeInputError("TimeDistributed must wrap one layer described as a JSON object")
        return _weight_count(inner)
    return 0


def _read_description(entry, path):
    if entry.dtype.kind != "U" or entry.ndim != 0:
        raise ModelFileError(f"{path}: the {DESCRIPTION_KEY!r} entry is not a text")
    try:
        description = json.loads(entry.item())
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ModelFileError(f"{path}: the model description is not valid JSON ({_one_line(exc)})") from None
    if not isinstance(description, dict):
        raise ModelFileError(f"{path}: the model description is not a JSON object")
    if description.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a miniae model file (format is {description.get('format')!r}, "
                             f"expected {FORMAT!r})")
    version = description.get("version")
    if version != VERSION:
        raise ModelFileError(f"{path} was written in miniae model format version {version!r}; this miniae "
                             f"reads version {VERSION} only (save it again with a matching miniae)")
    return description


def _fill_weights(model, arrays, path):
    expected = {PARAM_PREFIX + name for name, _, _ in model.named_parameters()}
    missing, extra = sorted(expected - set(arrays)), sorted(set(arrays) - expected)
    if missing or extra:
        raise ModelFileError(f"{path}: the weights do not match the described model "
                             f"(missing {missing[:3]}, unexpected {extra[:3]})")
    for name, value, _ in model.named_parameters():
        stored = arrays[PARAM_PREFIX + name]
        if stored.shape != value.shape or stored.dtype != value.dtype:
            raise ModelFileError(f"{path}: parameter {name} has shape {stored.shape} and dtype {stored.dtype}, "
                                 f"but the described model needs {value.shape} and {value.dtype}")
        if not np.all(np.isfinite(stored)):
            raise ModelFileError(f"{path}: parameter {name} holds NaN or infinite values; a model file written "
                                 "by miniae.io.save never does")
        value[...] = stored


# ------------------------------------------------------------------ data files
def read_data(path, dtype=np.float64):
    """A data matrix (n_samples, n_features) from a .npy or a .csv/.txt file, validated.

    CSV: numbers separated by commas, one sample per line, no header, no missing values;
    each of those problems is reported with its line and column.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no data file at {path}")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            X = np.load(path, allow_pickle=False)
        except ValueError as exc:
            if "pickle" in str(exc):
                raise MiniaeInputError(f"{path} holds pickled objects, which miniae refuses to load; "
                                       "save plain numbers with np.save(path, X.astype(float))") from None
            raise MiniaeInputError(f"{path} is not a readable .npy file ({exc})") from None
        except (EOFError, OSError) as exc:
            raise MiniaeInputError(f"{path} is not a readable .npy file ({exc})") from None
    elif suffix in (".csv", ".txt"):
        X = _read_csv(path)
    else:
        raise MiniaeInputError(f"{path}: data files must be .npy or .csv, got {suffix or 'no suffix'!r}")
    return check_data(X, f"the data in {path.name}", dtype=dtype)


def _read_csv(path):
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:  # -sig: a spreadsheet's BOM is dropped
            return _parse_csv(csv.reader(handle), path)
    except UnicodeDecodeError:
        raise MiniaeInputError(f"{path.name} is not a text file (it is not valid UTF-8)") from None


# a decimal number as numpy.loadtxt reads one: ASCII digits, optional sign, point and exponent; inf and nan
_NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.ASCII | re.IGNORECASE)


def _parse_csv(reader, path):
    """Rows of numbers from a csv.reader, each problem reported with its line and column."""
    rows = []
    for line_number, row in enumerate(reader, start=1):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank lines are skipped (a line of only commas is not blank: its values are missing)
        values = []
        for column, field in enumerate(row, start=1):
            field = field.strip()
            if field == "":
                raise MiniaeInputError(f"{path.name} line {line_number} column {column} is empty (a missing "
                                       "value); fill or drop it before training")
            try:
                if not _NUMBER.fullmatch(field):  # float() also reads "1_000" and full-width digits
                    raise ValueError(field)
                values.append(float(field))
            except ValueError:
                if any(sep in field for sep in ";\t "):
                    hint = " (separate values with commas)"
                else:
                    hint = " (a header row? remove it)" if not rows else ""
                raise MiniaeInputError(f"{path.name} line {line_number} column {column} is {field[:20]!r}, "
                                       f"not a number{hint}") from None
        if rows and len(values) != len(rows[0]):
            raise MiniaeInputError(f"{path.name} line {line_number} has {len(values)} values but the first "
                                   f"row has {len(rows[0])}; every row must have the same number of columns")
        rows.append(values)
    if not rows:
        raise MiniaeInputError(f"{path.name} holds no data")
    return np.array(rows)
