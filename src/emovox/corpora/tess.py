"""TESS (Toronto Emotional Speech Set), Pichora-Fuller & Dupuis 2020.

Naming: ``SPK_word_emotion.wav``, e.g. ``OAF_back_angry.wav``, ``YAF_youth_ps.wav``: the carrier phrase
"Say the word ___" ends in one of 200 target words, spoken by two actresses in seven emotions. The
release stores them in folders such as ``OAF_angry/``, ``OAF_Pleasant_surprise/`` or
``YAF_pleasant_surprised/``, but only the file name is read, so files found anywhere are accepted.

- SPK speaker: ``OAF`` older adult female (aged 64), ``YAF`` younger adult female (aged 26); both are
  women. The public release names one file ``OA_bite_neutral.wav`` (a typo for ``OAF``); it is read as
  speaker OAF and keeps its own name as ``utt_id`` (the EmoBox folds use that name too).
- word: the target word (letters only).
- emotion (case-insensitive): angry, disgust, fear (fearful), happy, neutral, sad, and ``ps`` (pleasant
  surprise; ``pleasant_surprise``/``pleasant_surprised`` accepted too) -> surprised.

Official source: https://doi.org/10.5683/SP2/E8H2MF (University of Toronto Dataverse; CC BY-NC-ND 4.0).
"""

from __future__ import annotations

import re
from pathlib import Path

from .base import Corpus

EMOTIONS = {
    "angry": "angry",
    "disgust": "disgust",
    "fear": "fearful",
    "happy": "happy",
    "neutral": "neutral",
    "sad": "sad",
    "ps": "surprised",
    "pleasant_surprise": "surprised",
    "pleasant_surprised": "surprised",
}
#: The release's speaker codes, with its one typo (``OA_bite_neutral``) mapped onto OAF.
SPEAKERS = {"OAF": "OAF", "YAF": "YAF", "OA": "OAF"}
AGE = {"OAF": 64, "YAF": 26}
_NAME = re.compile(r"^([A-Za-z]+)_([A-Za-z]+)_([A-Za-z]+(?:_surprised?)?)$")


class Tess(Corpus):
    name = "tess"
    title = "TESS"
    language = "en"

    def parse(self, path: Path, ctx: dict) -> dict | str:
        """A TESS file name (``OAF_back_angry``) as a manifest row, or why it is not one.

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
            return "not SPK_word_emotion (e.g. OAF_back_angry)"
        spk, word, emo = m.groups()
        if spk.upper() not in SPEAKERS:
            return f"unknown speaker {spk} (expected OAF or YAF)"
        if emo.lower() not in EMOTIONS:
            return f"unknown emotion {emo}"
        spk = SPEAKERS[spk.upper()]
        return {
            "utt_id": path.stem,
            "speaker": self.speaker_id(spk),
            "gender": "female",
            "age": AGE[spk],
            "emotion": EMOTIONS[emo.lower()],
            "emotion_code": emo.lower(),
            "word": word.lower(),
            "text": f"Say the word {word.lower()}",
        }
