"""nEMO (Polish emotional speech), Christop 2024 (LREC-COLING).

Naming: ``SPK_EMOTION_N.wav`` (in ``samples/``), e.g. ``EB0_anger_1.wav``:

- SPK actor: ``EB0``, ``IC0``, ``KD0``, ``MK0`` (female), ``KS0``, ``MP0``, ``SM0``, ``TP0``, ``WR0``
  (male), aged 23-28;
- EMOTION the release's own word: ``anger`` (angry), ``fear`` (fearful), ``happiness`` (happy),
  ``neutral``, ``sadness`` (sad), ``surprised``;
- N sentence number, 1-90 (the same number is the same sentence under every emotion and actor).

The release has 4481 files (about 540 per actor; MK0 has 450 and MP0 256) and no predefined splits.
Gender, age and the transcripts come from the release's ``data.tsv`` (tab-separated: file_id, emotion,
raw_text, normalized_text, speaker_id, gender, age; file_id ends in ``.wav`` and is matched on its stem,
so ``.flac``/``.opus`` copies match too), read when it lies anywhere under the scanned root: ``text`` is
raw_text and ``normalized_text`` the release's normalised transcript. Without it ``gender`` comes from
the actor list above and ``age``/``text`` are empty.

Official source: https://huggingface.co/datasets/amu-cai/nEMO (Adam Mickiewicz University; paper
https://aclanthology.org/2024.lrec-main.1059/; CC BY-NC-SA 4.0).
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

from .base import Corpus

EMOTIONS = {
    "anger": "angry",
    "fear": "fearful",
    "happiness": "happy",
    "neutral": "neutral",
    "sadness": "sad",
    "surprised": "surprised",
}
SPEAKERS = {
    "EB0": "female",
    "IC0": "female",
    "KD0": "female",
    "MK0": "female",
    "KS0": "male",
    "MP0": "male",
    "SM0": "male",
    "TP0": "male",
    "WR0": "male",
}
METADATA = "data.tsv"
_NAME = re.compile(r"^([A-Z]{2}\d)_([a-z]+)_(\d+)$")


def find_metadata(root: Path) -> Path | None:
    """The first ``data.tsv`` under ``root`` (any depth, case-insensitive), or None.

    Parameters
    ----------
    root : Path
        The corpus folder (hidden folders are not searched; links are followed).

    Returns
    -------
    Path or None
    """
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in sorted(filenames):
            if fn.lower() == METADATA:
                return Path(dirpath) / fn
    return None


def read_metadata(path: Path) -> dict[str, dict]:
    """File stem -> {gender, age, text, normalized_text} from the release's ``data.tsv``.

    Every field is stripped (the release pads ``speaker_id`` with spaces).

    Parameters
    ----------
    path : Path
        The release's ``data.tsv``.

    Returns
    -------
    dict
        File stem -> ``gender`` (``male``, ``female`` or None), ``age`` (int or None), ``text`` and
        ``normalized_text`` (str or None). Rows without a ``file_id`` are left out.
    """
    out: dict[str, dict] = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            file_id = row.get("file_id", "")
            if not file_id:
                continue
            gender = row.get("gender", "").lower()
            age = row.get("age", "")
            out[Path(file_id).stem] = {
                "gender": gender if gender in ("male", "female") else None,
                "age": int(age) if age.isdigit() else None,
                "text": row.get("raw_text") or None,
                "normalized_text": row.get("normalized_text") or None,
            }
    return out


class Nemo(Corpus):
    name = "nemo"
    title = "nEMO"
    language = "pl"

    def context(self, root: Path) -> dict:
        """The recordings' metadata, from the first ``data.tsv`` under ``root``.

        Parameters
        ----------
        root : Path
            The corpus folder being scanned.

        Returns
        -------
        dict
            ``metadata`` (:func:`read_metadata`; empty when there is no ``data.tsv``) and ``metadata_path``
            (the file, or None).
        """
        path = find_metadata(root)
        return {"metadata": read_metadata(path) if path else {}, "metadata_path": path}

    def parse(self, path: Path, ctx: dict) -> dict | str:
        """A nEMO file name (``EB0_anger_1``) as a manifest row, with its metadata, or why it is not one.

        Parameters
        ----------
        path : Path
            The audio file.
        ctx : dict
            What :meth:`context` found under the scanned root.

        Returns
        -------
        dict or str
            The manifest row's fields, or why the file does not follow the naming convention.
        """
        m = _NAME.match(path.stem)
        if not m:
            return "not SPK_EMOTION_N (e.g. EB0_anger_1)"
        spk, emo, num = m.groups()
        if emo not in EMOTIONS:
            return f"unknown emotion {emo}"
        if spk not in SPEAKERS:
            return f"unknown speaker {spk}"
        if int(num) < 1 or num.startswith("0"):
            return f"bad sentence number {num}"
        meta = ctx.get("metadata", {}).get(path.stem, {})
        return {
            "utt_id": path.stem,
            "speaker": self.speaker_id(spk),
            "gender": meta.get("gender") or SPEAKERS[spk],
            "age": meta.get("age"),
            "emotion": EMOTIONS[emo],
            "emotion_code": emo,
            "sentence": num,
            "text": meta.get("text"),
            "normalized_text": meta.get("normalized_text"),
        }
