"""EMOVO (Italian emotional speech corpus), Costantini et al. 2014 (LREC).

Naming: ``emo-spk-sent.wav`` (in one folder per speaker), e.g. ``dis-f1-b1.wav``:

- emo emotion: ``dis`` disgusto (disgust), ``gio`` gioia (happy), ``neu`` neutrale (neutral),
  ``pau`` paura (fearful), ``rab`` rabbia (angry), ``sor`` sorpresa (surprised), ``tri`` tristezza (sad);
- spk actor: ``f1``, ``f2``, ``f3`` (female), ``m1``, ``m2``, ``m3`` (male);
- sent sentence: 14 per emotion, ``b1``-``b3`` short, ``l1``-``l4`` long, ``d1``-``d2`` questions,
  ``n1``-``n5`` nonsense; any letters followed by digits is accepted.

Fields are read case-insensitively; ``utt_id`` keeps the file's own spelling.

Official source: http://voice.fub.it/activities/corpora/emovo/ (Fondazione Ugo Bordoni; free for research).
"""

from __future__ import annotations

import re
from pathlib import Path

from .base import Corpus

EMOTIONS = {
    "dis": "disgust",
    "gio": "happy",
    "neu": "neutral",
    "pau": "fearful",
    "rab": "angry",
    "sor": "surprised",
    "tri": "sad",
}
GENDER = {"f": "female", "m": "male"}
_NAME = re.compile(r"^([a-z]+)-([a-z]+\d+)-([a-z]+\d+)$")
SPEAKERS = ("f1", "f2", "f3", "m1", "m2", "m3")


class Emovo(Corpus):
    name = "emovo"
    title = "EMOVO"
    language = "it"

    def parse(self, path: Path, ctx: dict) -> dict | str:
        """An EMOVO file name (``dis-f1-b1``, any case) as a manifest row, or why it is not one.

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
        m = _NAME.match(path.stem.lower())
        if not m:
            return "not emo-spk-sent (e.g. dis-f1-b1)"
        emo, spk, sent = m.groups()
        if emo not in EMOTIONS:
            return f"unknown emotion code {emo}"
        if spk not in SPEAKERS:
            return f"unknown speaker {spk}"
        return {
            "utt_id": path.stem,
            "speaker": self.speaker_id(spk),
            "gender": GENDER[spk[0]],
            "emotion": EMOTIONS[emo],
            "emotion_code": emo,
            "sentence": sent,
        }
