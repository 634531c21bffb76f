"""What else was tried for the RAVDESS 80 % target (issue 10), on Whisper-base features.

    python benchmarks/bench_encoder_ablations.py

Every row is the ``whisper-active`` head (layers 2-5, voiced frames, standardised logistic regression,
no augmentation unless said) on the RAVDESS EmoBox folds, changed in one way. The pooled features (int8
encoder, and its speed / noise copies) come from the feature cache that training fills
(``encoder_features``, as ``bench_encoder_models.py`` computes them); the frame-level row runs the encoder
again (its frames are not cached). Prints a markdown table.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import corpus, machine, md_table, ua  # noqa: E402

from emovox.audio import load_audio  # noqa: E402
from emovox.encoders.frontend import active_frames, encoder_features, ensure_onnx_encoder  # noqa: E402
from emovox.encoders.runtime import WhisperEncoderONNX  # noqa: E402
from emovox.splits import make_protocol  # noqa: E402
from emovox.training import compute_features, default_cache_dir, resolve_recipe  # noqa: E402

AUGMENTS = ("speed:0.9", "speed:1.1", "noise:15")


def logreg(C: float = 0.1):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=3000, class_weight="balanced"))


def speaker_subspace(X, y, spk, k: int) -> np.ndarray:
    """Top ``k`` directions of the speakers' offsets from the emotion means (nuisance attribute projection)."""
    offsets = []
    for s in np.unique(spk):
        d = [
            X[(spk == s) & (y == e)].mean(0) - X[y == e].mean(0)
            for e in np.unique(y)
            if ((spk == s) & (y == e)).any()
        ]
        offsets.append(np.mean(d, 0))
    return np.linalg.svd(np.array(offsets), full_matrices=False)[2][:k]


def frame_probs(df, folds, y):
    """Per-utterance mean log-probabilities of a frame-level logistic regression on layer 3."""
    from sklearn.linear_model import SGDClassifier
    from sklearn.preprocessing import StandardScaler

    enc = WhisperEncoderONNX(ensure_onnx_encoder(cache_dir=default_cache_dir(), quantize=True))
    frames, owner = [], []
    for i, p in enumerate(df["path"]):
        audio = load_audio(str(p), 16000, min_duration=0.0)
        h = enc.hidden_states(audio)[3]
        keep = active_frames(audio, len(h))
        frames.append(h[keep][::2])
        owner.append(np.full(len(frames[-1]), i))
    F, owner = np.vstack(frames), np.concatenate(owner)
    pred = np.empty(len(y), dtype=object)
    for fold in folds:
        on = np.isin(owner, fold.train)
        sc = StandardScaler().fit(F[on])
        clf = SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=15, tol=None, random_state=0)
        clf.fit(sc.transform(F[on]), y[owner[on]])
        lp = np.log(np.clip(clf.predict_proba(sc.transform(F[np.isin(owner, fold.test)])), 1e-6, 1))
        o = owner[np.isin(owner, fold.test)]
        pred[fold.test] = [clf.classes_[lp[o == i].mean(0).argmax()] for i in fold.test]
    return pred


def main() -> None:
    import argparse

    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    df = corpus("ravdess")
    folds = make_protocol(df, "emobox").folds
    y, spk = df["emotion"].to_numpy(), df["speaker"].astype(str).to_numpy()
    opts = {"layers": [2, 3, 4, 5], "pooling": "active", "quantize": True, "progress": False}
    table = encoder_features(df, augmentations=AUGMENTS, **opts)
    X, variants = table.X, table.augmented
    compare = compute_features(df, resolve_recipe("compare-logreg"), progress=False).X
    rows = []

    def add(name: str, fit_predict) -> None:
        t = time.perf_counter()
        per_fold = [ua(y[f.test], fit_predict(f)) for f in folds]
        rows.append(
            {
                "variant": name,
                "UA %": f"{np.mean(per_fold):.1f} ± {np.std(per_fold):.1f}",
                "per-fold UA": ", ".join(f"{u:.1f}" for u in per_fold),
                "seconds": f"{time.perf_counter() - t:.0f}",
            }
        )
        print(rows[-1], file=sys.stderr, flush=True)

    add(
        "whisper-active head (no augmentation)",
        lambda f: logreg().fit(X[f.train], y[f.train]).predict(X[f.test]),
    )
    for C in (0.03, 0.3):
        add(f"C = {C}", lambda f, C=C: logreg(C).fit(X[f.train], y[f.train]).predict(X[f.test]))

    def nap(f, k):
        mu, sd = X[f.train].mean(0), X[f.train].std(0) + 1e-6
        Z = (X - mu) / sd
        V = speaker_subspace(Z[f.train], y[f.train], spk[f.train], k)
        Z = Z - (Z @ V.T) @ V
        return logreg().fit(Z[f.train], y[f.train]).predict(Z[f.test])

    for k in (5, 10, 19):
        add(f"speaker subspace removed (NAP, k = {k})", lambda f, k=k: nap(f, k))

    def tta(f):
        Xtr = np.vstack([X[f.train], *(v[f.train] for v in variants.values())])
        clf = logreg().fit(Xtr, np.concatenate([y[f.train]] * (1 + len(variants))))
        P = clf.predict_proba(X[f.test]) + sum(clf.predict_proba(v[f.test]) for v in variants.values())
        return clf.classes_[P.argmax(1)]

    add("trained on + averaged over speed / noise copies (test-time augmentation)", tta)

    def fusion(f):
        a = logreg().fit(X[f.train], y[f.train])
        b = logreg().fit(compare[f.train], y[f.train])
        return a.classes_[(a.predict_proba(X[f.test]) + b.predict_proba(compare[f.test])).argmax(1)]

    add("+ compare-logreg probabilities (late fusion)", fusion)
    both = np.hstack([X, compare])
    add(
        "+ ComParE functionals (one logistic regression)",
        lambda f: logreg(0.05).fit(both[f.train], y[f.train]).predict(both[f.test]),
    )
    memo: dict = {}  # frame_probs fits all folds at once; computed (and timed) at the first fold
    add(
        "frame-level logistic regression (layer 3), mean log-probability",
        lambda f: memo.setdefault("pred", frame_probs(df, folds, y))[f.test],
    )
    print(f"machine: {machine()}\n")
    print(md_table(rows, ["variant", "UA %", "per-fold UA", "seconds"]))


if __name__ == "__main__":
    main()
