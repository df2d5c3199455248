"""Train the demo classifier and write ``model.npz`` next to this file.

Run ``python -m infratest.demo.train``. Everything is seeded, so the artifact is reproducible
on one machine; the data are synthetic so the demo ships with no data set.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

import numpy as np

from infratest.demo.model import DEFAULT_WEIGHTS, Model, load, save, softmax

SEED = 1234
N_INPUTS, HIDDEN, N_CLASSES = 4, 32, 3
N_TRAIN, N_TEST = 6000, 2000
EPOCHS, BATCH, LEARNING_RATE = 40, 128, 0.01


def true_labels(x: np.ndarray) -> np.ndarray:
    """The rule the model has to learn: non-linear, but smooth enough for a small MLP."""
    scores = np.stack(
        [
            x[:, 0] + 0.5 * x[:, 1] ** 2 - 0.5,
            x[:, 1] * x[:, 2] + x[:, 3],
            np.sin(2.0 * x[:, 3]) - x[:, 0],
        ],
        axis=1,
    )
    return scores.argmax(axis=1)


def make_dataset(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` standard-normal feature rows and their labels; distinct seeds give held-out data."""
    x = np.random.default_rng(seed).normal(size=(n, N_INPUTS))
    return x, true_labels(x)


def init_model(rng: np.random.Generator) -> Model:
    """Glorot-scaled weights, zero biases."""
    sizes = [N_INPUTS, HIDDEN, HIDDEN, N_CLASSES]
    weights = tuple(
        rng.normal(scale=np.sqrt(2.0 / (m + n)), size=(m, n)) for m, n in itertools.pairwise(sizes)
    )
    biases = tuple(np.zeros(n) for n in sizes[1:])
    return Model(weights=weights, biases=biases)


def gradients(model: Model, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Cross-entropy gradients, ordered ``[w0, b0, w1, b1, ...]``."""
    activations = [x]
    for w, b in zip(model.weights[:-1], model.biases[:-1], strict=True):
        activations.append(np.tanh(activations[-1] @ w + b))
    delta = softmax(activations[-1] @ model.weights[-1] + model.biases[-1])
    delta[np.arange(len(y)), y] -= 1.0
    delta /= len(y)
    grads: list[np.ndarray] = []
    for i in reversed(range(len(model.weights))):
        grads[:0] = [activations[i].T @ delta, delta.sum(axis=0)]
        if i:
            delta = (delta @ model.weights[i].T) * (1.0 - activations[i] ** 2)
    return grads


class Adam:
    """Plain Adam; updates parameter arrays in place."""

    def __init__(self, params: list[np.ndarray], lr: float) -> None:
        self.params, self.lr, self.step_count = params, lr, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads: list[np.ndarray], b1: float = 0.9, b2: float = 0.999) -> None:
        self.step_count += 1
        t = self.step_count
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m += (1 - b1) * (g - m)
            v += (1 - b2) * (g * g - v)
            p -= self.lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + 1e-8)


def train(seed: int = SEED) -> Model:
    """Mini-batch Adam on the synthetic training set; returns float32 weights."""
    rng = np.random.default_rng(seed)
    x, y = make_dataset(N_TRAIN, seed)
    model = init_model(rng)
    params = [p for pair in zip(model.weights, model.biases, strict=True) for p in pair]
    optimiser = Adam(params, LEARNING_RATE)
    for _ in range(EPOCHS):
        order = rng.permutation(N_TRAIN)
        for start in range(0, N_TRAIN, BATCH):
            rows = order[start : start + BATCH]
            optimiser.step(gradients(model, x[rows], y[rows]))
    return Model(
        weights=tuple(w.astype(np.float32) for w in model.weights),
        biases=tuple(b.astype(np.float32) for b in model.biases),
    )


def accuracy(model: Model, x: np.ndarray, y: np.ndarray) -> float:
    """Share of rows whose predicted label matches."""
    labels, _ = model.predict(x)
    return float(np.mean(labels == y))


def main(out: Path = DEFAULT_WEIGHTS) -> int:
    """Train, save, then report held-out accuracy of the artifact as saved."""
    started = time.perf_counter()
    save(train(), out)
    model = load(out)
    x_test, y_test = make_dataset(N_TEST, SEED + 1)
    chance = np.bincount(y_test, minlength=N_CLASSES).max() / N_TEST
    print(
        f"wrote {out} ({out.stat().st_size} bytes) in {time.perf_counter() - started:.1f} s; "
        f"held-out accuracy {accuracy(model, x_test, y_test):.3f} "
        f"(majority class {chance:.3f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
