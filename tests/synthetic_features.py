"""A synthetic FeatureTable for calibration and cross-corpus tests (no tests here).

The vectors live in the "tutorial" feature space (same size, the real front-end spec), so a model trained on
them is a working model directory that loads and can embed audio.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_table(
    seed: int = 0,
    corpora: str = "abc",
    per: int = 30,
    shift: float = 0.0,
    sep: float = 3.0,
    emotions=("angry", "happy", "sad"),
    missing: dict | None = None,
    informative: int = 3,
):
    """Each emotion a random centre (sd ``sep``) in the first ``informative`` dimensions, unit noise in all,
    each corpus shifted there by an offset of sd ``shift`` (a domain shift), two speakers per corpus, ``per``
    rows per emotion and corpus. ``missing``: corpus -> an emotion it lacks."""
    from emovox.features import FeatureExtractor
    from emovox.training import FeatureTable

    ext = FeatureExtractor("tutorial")
    config = ext.config
    d = len(ext.feature_names)
    rng = np.random.default_rng(seed)
    centres = np.zeros((len(emotions), d))
    centres[:, :informative] = sep * rng.standard_normal((len(emotions), informative))
    X, rows = [], []
    for corpus in corpora:
        offset = np.zeros(d)
        offset[:informative] = shift * rng.standard_normal(informative)
        for k, emo in enumerate(emotions):
            if missing and missing.get(corpus) == emo:
                continue
            for i in range(per):
                X.append(centres[k] + offset + rng.normal(0, 1.0, d))
                rows.append(
                    {
                        "path": f"/synthetic/{corpus}/{emo}{i}.wav",
                        "emotion": emo,
                        "corpus": corpus,
                        "speaker": f"{corpus}:{i % 2}",
                    }
                )
    spec = {"type": "handcrafted", "config": config.to_dict(), "fingerprint": config.fingerprint()}
    return FeatureTable(
        np.asarray(X, dtype=np.float32), pd.DataFrame(rows), list(ext.feature_names), spec, []
    )
