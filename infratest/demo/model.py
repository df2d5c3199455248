"""The demo's classifier: a tiny numpy MLP, so the demo target does real (if cheap) inference.

The weights live in a plain ``.npz`` (``w0, b0, w1, b1, ...``) written with fixed zip
timestamps, so re-running the trainer does not churn the committed artifact.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_WEIGHTS = Path(__file__).with_name("model.npz")
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Model:
    """Dense layers with tanh between them and softmax on top."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]

    @property
    def n_inputs(self) -> int:
        return int(self.weights[0].shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.weights[-1].shape[1])

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Raw class scores; exposed so training and inference share one forward pass."""
        x = batch
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            x = np.tanh(x @ w + b)
        return x @ self.weights[-1] + self.biases[-1]

    def predict(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Labels and class probabilities for a ``(n, n_inputs)`` batch."""
        x = np.asarray(batch, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ValueError(f"expected shape (n, {self.n_inputs}), got {x.shape}")
        probabilities = softmax(self.logits(x))
        return probabilities.argmax(axis=1), probabilities


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row max so large scores cannot overflow."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def load(path: str | Path = DEFAULT_WEIGHTS) -> Model:
    """Read a model written by :func:`save`."""
    with np.load(path, allow_pickle=False) as arrays:
        n_layers = len(arrays.files) // 2
        weights = tuple(arrays[f"w{i}"] for i in range(n_layers))
        biases = tuple(arrays[f"b{i}"] for i in range(n_layers))
    _check_layers(weights, biases)
    return Model(weights=weights, biases=biases)


def save(model: Model, path: str | Path) -> None:
    """Write the model as an ``.npz`` whose bytes depend only on the weights."""
    named = [(f"w{i}", w) for i, w in enumerate(model.weights)]
    named += [(f"b{i}", b) for i, b in enumerate(model.biases)]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in named:
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())


def _check_layers(weights: tuple[np.ndarray, ...], biases: tuple[np.ndarray, ...]) -> None:
    """Fail at load time, not on the first request, if the artifact is inconsistent."""
    if not weights:
        raise ValueError("model file holds no layers")
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        if w.ndim != 2 or b.shape != (w.shape[1],):
            raise ValueError(f"layer {i}: weight {w.shape} and bias {b.shape} do not fit")
        if i and weights[i - 1].shape[1] != w.shape[0]:
            raise ValueError(f"layer {i}: input size {w.shape[0]} != previous output size")
