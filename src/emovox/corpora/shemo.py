"""ShEMO (Sharif Emotional Speech Database), Mohamad Nezami et al. 2019.

Naming: ``GSSENN.wav`` (in ``female/`` and ``male/``), e.g. ``F01A01.wav``:

- G gender: ``F`` female, ``M`` male (31 women, 56 men);
- SS speaker number, counted separately per gender, so the speaker id keeps the letter (``F01`` and
  ``M01`` are different people);
- E emotion: ``A`` angry, ``F`` fearful, ``H`` happy, ``N`` neutral, ``S`` sad, ``W`` surprised;
- NN utterance number within that speaker and emotion.

Semi-natural speech from Persian radio plays, 3000 utterances, labels by majority vote of 12 annotators.

Official source: https://github.com/pariajm/sharif-emotional-speech-database (free for academic use).
"""

from __future__ import annotations

import re
from pathlib import Path

from .base import Corpus

EMOTIONS = {"A": "angry", "F": "fearful", "H": "happy", "N": "neutral", "S": "sad", "W": "surprised"}
GENDER = {"F": "female", "M": "male"}
_NAME = re.compile(r"^([FM])(\d\d)([A-Z])(\d\d)$")


class ShEMO(Corpus):
    name = "shemo"
    title = "ShEMO"
    language = "fa"

    def parse(self, path: Path, ctx: dict) -> dict | str:
        """A ShEMO file name (``F01A01``) as a manifest row, or why it is not one.

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
            return "not GSSENN (e.g. F01A01)"
        g, num, emo, utt = m.groups()
        if emo not in EMOTIONS:
            return f"unknown emotion code {emo}"
        return {
            "utt_id": path.stem,
            "speaker": self.speaker_id(g + num),
            "gender": GENDER[g],
            "emotion": EMOTIONS[emo],
            "emotion_code": emo,
            "utterance": int(utt),
        }
