"""RAVDESS (Ryerson Audio-Visual Database of Emotional Speech and Song), Livingstone & Russo 2018.

Naming: ``MM-VV-EE-II-SS-RR-AA.wav`` (in ``Actor_AA/`` folders), seven two-digit fields:

- MM modality: 01 full-AV, 02 video-only, 03 audio-only
- VV vocal channel: 01 speech, 02 song
- EE emotion: 01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful, 07 disgust, 08 surprised
  (song has no disgust or surprised)
- II intensity: 01 normal, 02 strong (neutral has normal only)
- SS statement: 01 "Kids are talking by the door", 02 "Dogs are sitting by the door"
- RR repetition: 01 or 02
- AA actor 01-24; odd actors are male, even actors female.

Official source: https://zenodo.org/record/1188976 (CC BY-NC-SA 4.0).
"""

from __future__ import annotations

from pathlib import Path

from .base import Corpus

EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
MODALITIES = {"01": "audio-video", "02": "video-only", "03": "audio-only"}
CHANNELS = {"01": "speech", "02": "song"}
INTENSITIES = {"01": "normal", "02": "strong"}


class Ravdess(Corpus):
    name = "ravdess"
    title = "RAVDESS"
    language = "en"

    def parse(self, path: Path, ctx: dict) -> dict | str:
        """A RAVDESS file name (``03-01-05-01-02-01-12``) as a manifest row, or why it is not one.

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
        parts = path.stem.split("-")
        if len(parts) != 7 or not all(len(p) == 2 and p.isdigit() for p in parts):
            return "not MM-VV-EE-II-SS-RR-AA"
        mod, vc, emo, inten, stmt, rep, actor = parts
        if mod not in MODALITIES:
            return f"unknown modality {mod}"
        if vc not in CHANNELS:
            return f"unknown vocal channel {vc}"
        if emo not in EMOTIONS:
            return f"unknown emotion code {emo}"
        if inten not in INTENSITIES or stmt not in STATEMENTS or rep not in ("01", "02"):
            return "intensity, statement or repetition out of range"
        if not 1 <= int(actor) <= 24:
            return f"actor {actor} out of range 01-24"
        return {
            "utt_id": path.stem,
            "speaker": self.speaker_id(actor),
            "gender": "male" if int(actor) % 2 else "female",
            "emotion": EMOTIONS[emo],
            "emotion_code": emo,
            "intensity": INTENSITIES[inten],
            "modality": MODALITIES[mod],
            "vocal_channel": CHANNELS[vc],
            "statement": stmt,
            "text": STATEMENTS[stmt],
            "repetition": int(rep),
            "actor": int(actor),
        }
