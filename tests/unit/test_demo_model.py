"""The shipped demo model: deterministic, accurate, and its file format round-trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from infratest.demo.model import DEFAULT_WEIGHTS, load, save
from infratest.demo.train import N_CLASSES, N_INPUTS, accuracy, make_dataset, train


@pytest.fixture(scope="module")
def held_out() -> tuple[np.ndarray, np.ndarray]:
    return make_dataset(2000, seed=987)


def test_shipped_weights_are_small_and_shaped() -> None:
    model = load()
    assert DEFAULT_WEIGHTS.stat().st_size < 32 * 1024
    assert (model.n_inputs, model.n_classes) == (N_INPUTS, N_CLASSES)


def test_predict_is_deterministic(held_out: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = held_out
    labels_a, probs_a = load().predict(x)
    labels_b, probs_b = load().predict(x)
    np.testing.assert_array_equal(labels_a, labels_b)
    np.testing.assert_array_equal(probs_a, probs_b)


def test_probabilities_are_a_distribution(held_out: tuple[np.ndarray, np.ndarray]) -> None:
    labels, probs = load().predict(held_out[0][:100])
    assert probs.shape == (100, N_CLASSES) and labels.shape == (100,)
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(labels, probs.argmax(axis=1))


def test_accuracy_well_above_chance(held_out: tuple[np.ndarray, np.ndarray]) -> None:
    assert accuracy(load(), *held_out) > 0.8


@pytest.mark.parametrize("shape", [(4,), (2, 3), (1, 5), (2, 2, 4)])
def test_wrong_shape_is_refused(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="expected shape"):
        load().predict(np.zeros(shape))


def test_save_is_byte_for_byte_reproducible(tmp_path: Path) -> None:
    model = load()
    save(model, tmp_path / "a.npz")
    save(model, tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    again = load(tmp_path / "a.npz")
    for w, w2 in zip(model.weights + model.biases, again.weights + again.biases, strict=True):
        np.testing.assert_array_equal(w, w2)


def test_training_is_seeded(held_out: tuple[np.ndarray, np.ndarray]) -> None:
    first, second = train(seed=7), train(seed=7)
    for w, w2 in zip(first.weights, second.weights, strict=True):
        np.testing.assert_array_equal(w, w2)
    assert accuracy(first, *held_out) > 0.8


def test_the_bundled_data_files_are_what_their_scripts_write(tmp_path) -> None:
    """`python -m infratest.demo.inputs` and `... .traffic` rewrite the committed files byte for
    byte, so a reader can trust how they were made."""
    from infratest.demo import inputs, traffic

    data = Path(__file__).parents[2] / "scenarios" / "data"
    assert inputs.main(["--out", str(tmp_path / "i.jsonl"), "--count", "400", "--seed", "7"]) == 0
    assert traffic.main(["--out", str(tmp_path / "t.jsonl")]) == 0
    assert (tmp_path / "i.jsonl").read_bytes() == (data / "rollout-inputs.jsonl").read_bytes()
    assert (tmp_path / "t.jsonl").read_bytes() == (data / "traffic.jsonl").read_bytes()
