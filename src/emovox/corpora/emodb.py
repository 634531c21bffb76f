"""EMO-DB (Berlin Database of Emotional Speech), Burkhardt et al. 2005.

Naming: ``SSTTTEV.wav`` (in ``wav/``), e.g. ``03a01Fa``: speaker ``03``, text ``a01``, emotion letter
``F`` (German initial), version ``a``. Emotion letters: W Wut (angry), L Langeweile (boredom),
E Ekel (disgust), A Angst (fearful), F Freude (happy), T Trauer (sad), N neutral.
Speakers (from the corpus documentation): 03 m, 08 f, 09 f, 10 m, 11 m, 12 m, 13 f, 14 f, 15 m, 16 f.

Official source: http://emodb.bilderbar.info (free for research).
"""

from __future__ import annotations

import re
from pathlib import Path

from .base import Corpus

EMOTIONS = {
    "W": "angry",
    "L": "boredom",
    "E": "disgust",
    "A": "fearful",
    "F": "happy",
    "T": "sad",
    "N": "neutral",
}
GENDER = {
    "03": "male",
    "08": "female",
    "09": "female",
    "10": "male",
    "11": "male",
    "12": "male",
    "13": "female",
    "14": "female",
    "15": "male",
    "16": "female",
}
AGE = {"03": 31, "08": 34, "09": 21, "10": 32, "11": 26, "12": 30, "13": 32, "14": 35, "15": 25, "16": 31}
_NAME = re.compile(r"^(\d\d)([ab]\d\d)([WLEAFTN])([a-z])$")


class EmoDB(Corpus):
    name = "emodb"
    title = "EMO-DB"
    language = "de"

    def parse(self, path: Path, ctx: dict) -> dict | str:
        """An EMO-DB file name (``03a01Fa``) as a manifest row, or why it is not one.

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
            return "not SSTTTEV (e.g. 03a01Fa)"
        spk, text, letter, version = m.groups()
        if spk not in GENDER:
            return f"unknown speaker {spk}"
        return {
            "utt_id": path.stem,
            "speaker": self.speaker_id(spk),
            "gender": GENDER[spk],
            "age": AGE[spk],
            "emotion": EMOTIONS[letter],
            "emotion_code": letter,
            "text": text,
            "version": version,
        }
