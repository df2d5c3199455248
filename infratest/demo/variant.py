"""Model variants of the demo, so a rollout comparison has a baseline and a candidate.

``v1`` is the committed model as trained. ``v2`` is the same model with a small, fixed-seed
perturbation of its last layer, computed at load time (no second artifact to keep in step),
plus a little extra service time: "slightly slower, and disagreeing on a few inputs". Its
scale was chosen so that about 1.5% of inputs drawn like the training data (standard
normal features) get a different label. The extra time is a sleep outside the inference
lock, not CPU work: it adds its ~0.3 ms at any load, where 0.3 ms of GIL-holding work would
cut capacity and, under closed-loop load, add several ms of queueing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infratest.demo.model import Model

PERTURB_SEED = 22
PERTURB_SCALE = 0.15  # noise std as a share of the last layer's weight std


@dataclass(frozen=True)
class Variant:
    """How a variant differs from the committed model."""

    name: str
    perturb_scale: float = 0.0
    extra_service_s: float = 0.0


VARIANTS = {
    "v1": Variant("v1"),
    "v2": Variant("v2", perturb_scale=PERTURB_SCALE, extra_service_s=0.0003),
}
DEFAULT_VARIANT = "v1"


def get(name: str) -> Variant:
    """The named variant; KeyError names the known ones."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise KeyError(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}") from None


def apply(model: Model, variant: Variant) -> Model:
    """The model this variant serves; v1 gets the very same object back, untouched."""
    if not variant.perturb_scale:
        return model
    last = model.weights[-1]
    rng = np.random.default_rng(PERTURB_SEED)
    noise = rng.normal(size=last.shape) * variant.perturb_scale * float(np.std(last))
    perturbed = (last + noise).astype(last.dtype)
    return Model(weights=(*model.weights[:-1], perturbed), biases=model.biases)
