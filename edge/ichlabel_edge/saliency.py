"""Occlusion maps of the key slices: where on a key slice the build's score of a positive class
comes from, for the radiologist who opens the node's captures in the PACS.

A build ships the model in two parts besides the whole (``manifest["saliency"]``): the backbone
(a slice's image -> its features) and the sequence head (every slice's features -> scores), held
to the whole model's scores by the app's build check. The key slice is hidden one square at a
time (a ``grid`` x ``grid`` of squares set to the pad value); the backbone gives the features of
each hidden version, each takes the key slice's place in the scan's sequence, and the head
scores it. A square's weight is how far the class's score at the key slice drops without it:
squares that do not matter, or that lower the score, weigh 0, and the weights are scaled to a
maximum of 1. Gradient-free, so onnxruntime is enough; it costs ``grid``² backbone passes per
key slice (64 by default, about twice a 36-slice scan), done after the result is reported.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from ichlabel_edge.runner import Scored
from ichlabel_edge.runtime import open_session
from ichlabel_edge.slots import InstalledBuild

GRID = 8
BATCH = 16  # hidden versions through the backbone at once: bounded memory at 480 px


@dataclass(frozen=True)
class KeySliceMap:
    """The map of positive class ``name`` on its key slice (``slice_index`` in the scored
    series' slices): ``weights`` (grid, grid), 0 to 1, rows from the image's top."""

    name: str
    slice_index: int
    weights: np.ndarray

    def at(self, rows: int, columns: int) -> np.ndarray:
        """The weights at an image's size, each square filling its part of the image."""
        grid = self.weights.shape[0]
        row_of = np.minimum(np.arange(rows) * grid // rows, grid - 1)
        column_of = np.minimum(np.arange(columns) * grid // columns, grid - 1)
        return self.weights[np.ix_(row_of, column_of)]


class Occlusion:
    """The build's two parts, opened once; ``None`` from ``of`` for a build without them."""

    def __init__(self, backbone: Any, head: Any, pad_value: float, grid: int = GRID) -> None:
        self.backbone, self.head = backbone, head
        self.pad_value = pad_value
        self.grid = grid

    @classmethod
    def of(cls, build: InstalledBuild, grid: int = GRID) -> "Occlusion | None":
        parts = build.manifest.get("saliency") or {}
        if parts.get("method") != "occlusion":
            return None
        pad = float((build.manifest.get("preprocessing") or {}).get("pad_value", 0.0))
        backbone = open_session(build.directory / parts["backbone"])
        return cls(backbone, open_session(build.directory / parts["head"]), pad, grid)

    def maps(self, scored: Scored) -> list[KeySliceMap]:
        """One map per positive class, on its key slice; classes that share a key slice share
        its hidden versions (the head scores every class at once)."""
        if scored.images is None or not scored.positive:
            return []
        features = self._features(scored.images)
        model_slices = {
            name: scored.slices[scored.key_slices[name]].model_slice for name in scored.positive
        }
        drops = {
            at: self.drops(scored.images[at], features, at) for at in set(model_slices.values())
        }
        return [
            KeySliceMap(
                name,
                scored.key_slices[name],
                weights(drops[model_slices[name]][:, scored.classes.index(name)], self.grid),
            )
            for name in scored.positive
        ]

    def drops(self, image: np.ndarray, features: np.ndarray, model_slice: int) -> np.ndarray:
        """(squares, classes): how far each class's score at ``model_slice`` falls with each
        square of its ``image`` hidden (row by row from the top left)."""
        base = self._slice_scores(features[None])[0, model_slice]
        hidden = np.concatenate(
            [self._features(chunk) for chunk in _chunks(self._hidden(image), BATCH)]
        )
        sequences = np.repeat(features[None], len(hidden), axis=0)
        sequences[:, model_slice] = hidden
        scores = np.concatenate(
            [self._slice_scores(chunk)[:, model_slice] for chunk in _chunks(sequences, BATCH)]
        )
        return base[None] - scores

    def _hidden(self, image: np.ndarray) -> np.ndarray:
        """``image`` once per square, that square set to the pad value."""
        size = image.shape[0]
        edges = np.linspace(0, size, self.grid + 1).round().astype(int)
        out = np.repeat(np.asarray(image, np.float32)[None], self.grid * self.grid, axis=0)
        for row in range(self.grid):
            for col in range(self.grid):
                square = out[row * self.grid + col]
                square[edges[row] : edges[row + 1], edges[col] : edges[col + 1]] = self.pad_value
        return out

    def _features(self, images: np.ndarray) -> np.ndarray:
        feed = {self.backbone.get_inputs()[0].name: np.asarray(images, np.float32)}
        return np.asarray(self.backbone.run(None, feed)[0], np.float32)

    def _slice_scores(self, sequences: np.ndarray) -> np.ndarray:
        names = [output.name for output in self.head.get_outputs()]
        feed = {self.head.get_inputs()[0].name: np.asarray(sequences, np.float32)}
        out = dict(zip(names, self.head.run(names, feed), strict=True))
        return np.asarray(out["slice"], np.float32)


def weights(drops: np.ndarray, grid: int) -> np.ndarray:
    """A class's drops per square as its map: what lowers the score or does nothing weighs 0,
    the rest scaled to a maximum of 1."""
    kept = np.clip(np.asarray(drops, np.float32), 0.0, None).reshape(grid, grid)
    top = float(kept.max())
    return kept / top if top > 0 else kept


def _chunks(array: np.ndarray, size: int) -> list[np.ndarray]:
    return [array[start : start + size] for start in range(0, len(array), size)]
