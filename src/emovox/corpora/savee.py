"""SAVEE (Surrey Audio-Visual Expressed Emotion), Haq & Jackson 2009.

Naming: four male speakers (``DC``, ``JE``, ``JK``, ``KL``; postgraduate students aged 27-31), seven
emotions, 15 sentences per emotion and 30 for neutral. Two layouts are read:

- ``AudioData/DC/a01.wav``: a folder per speaker, file ``<code><NN>.wav``;
- ``DC_a01.wav``: flat, speaker prefixed (the layout of most redistributions and of the EmoBox folds).

Either way ``utt_id`` is ``SPK_<code><NN>`` (e.g. ``DC_a01``). Emotion codes: ``a`` angry, ``d`` disgust,
``f`` fearful, ``h`` happy, ``n`` neutral, ``sa`` sad, ``su`` surprised (``sa01`` is sad, ``a01`` angry).

Official source: http://kahlan.eps.surrey.ac.uk/savee/ (free for research; registration required).
"""

from __future__ import annotations

import re
from pathlib import Path

from .base import Corpus

EMOTIONS = {
    "a": "angry",
    "d": "disgust",
    "f": "fearful",
    "h": "happy",
    "n": "neutral",
    "sa": "sad",
    "su": "surprised",
}
SPEAKERS = ("DC", "JE", "JK", "KL")
_CODE = r"(sa|su|a|d|f|h|n)(\d\d)"
_FLAT = re.compile(rf"^({'|'.join(SPEAKERS)})_{_CODE}$")
_IN_FOLDER = re.compile(rf"^{_CODE}$")


class Savee(Corpus):
    name = "savee"
    title = "SAVEE"
    language = "en"

    def parse(self, path: Path, ctx: dict) -> dict | str:
        """A SAVEE file name (``DC_a01``, or ``a01`` in a speaker's folder ``DC``) as a manifest row, or why
        it is not one.

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
        m = _FLAT.match(path.stem)
        if m:
            spk, code, num = m.groups()
        else:
            m = _IN_FOLDER.match(path.stem)
            if not m:
                return "not SPK_eNN (e.g. DC_a01) nor SPK/eNN (e.g. DC/a01)"
            spk = path.parent.name
            if spk not in SPEAKERS:
                return f"eNN file outside a speaker folder ({', '.join(SPEAKERS)})"
            code, num = m.groups()
        if int(num) < 1:
            return f"sentence number {num} out of range"
        return {
            "utt_id": f"{spk}_{code}{num}",
            "speaker": self.speaker_id(spk),
            "gender": "male",
            "emotion": EMOTIONS[code],
            "emotion_code": code,
            "sentence": int(num),
        }
