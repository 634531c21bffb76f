"""CREMA-D (Crowd-sourced Emotional Multimodal Actors Dataset), Cao et al. 2014.

Naming: ``AAAA_SSS_EEE_LL.wav`` (in ``AudioWAV/``), e.g. ``1001_DFA_ANG_XX.wav``:

- AAAA actor 1001-1091 (48 male, 43 female, aged 20-74);
- SSS sentence: IEO "It's eleven o'clock", TIE "That is exactly what happened", IOM "I'm on my way to the
  meeting", IWW "I wonder what this is about", TAI "The airplane is almost full", MTI "Maybe tomorrow it
  will be cold", IWL "I would like a new alarm clock", ITH "I think I have a doctor's appointment",
  DFA "Don't forget a jacket", ITS "I think I've seen this before", TSI "The surface is slick",
  WSI "We'll stop in a couple of minutes";
- EEE emotion: ANG angry, DIS disgust, FEA fearful, HAP happy, NEU neutral, SAD sad;
- LL level: LO low, MD medium, HI high, XX unspecified (only IEO was recorded at three levels).

Gender and age are not in the names: they come from the release's ``VideoDemographics.csv`` (columns
ActorID, Age, Sex, Race, Ethnicity), read when it lies anywhere under the scanned root; without it
``gender`` and ``age`` are empty.

Official source: https://github.com/CheyneyComputerScience/CREMA-D (Open Database License v1.0, contents
under the Database Contents License v1.0).
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

from .base import Corpus

EMOTIONS = {
    "ANG": "angry",
    "DIS": "disgust",
    "FEA": "fearful",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}
SENTENCES = {
    "IEO": "It's eleven o'clock",
    "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before",
    "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}
LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
DEMOGRAPHICS = "VideoDemographics.csv"
_NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$")


def find_demographics(root: Path) -> Path | None:
    """The first ``VideoDemographics.csv`` under ``root`` (any depth, case-insensitive), or None.

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
            if fn.lower() == DEMOGRAPHICS.lower():
                return Path(dirpath) / fn
    return None


def read_demographics(path: Path) -> dict[str, dict]:
    """ActorID -> {gender, age, race, ethnicity} from ``VideoDemographics.csv``.

    Parameters
    ----------
    path : Path
        The ``VideoDemographics.csv`` file.

    Returns
    -------
    dict
        Actor id (``1001``) -> ``gender`` (``male``, ``female`` or None), ``age`` (int or None), ``race``
        and ``ethnicity`` (str or None). Rows without an ``ActorID`` are left out.
    """
    out: dict[str, dict] = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            actor = row.get("ActorID", "")
            if not actor:
                continue
            sex = row.get("Sex", "").lower()
            age = row.get("Age", "")
            out[actor] = {
                "gender": sex if sex in ("male", "female") else None,
                "age": int(age) if age.isdigit() else None,
                "race": row.get("Race") or None,
                "ethnicity": row.get("Ethnicity") or None,
            }
    return out


class CremaD(Corpus):
    name = "cremad"
    title = "CREMA-D"
    language = "en"

    def context(self, root: Path) -> dict:
        """The actors' demographics, from the first ``VideoDemographics.csv`` under ``root``.

        Parameters
        ----------
        root : Path
            The corpus folder being scanned.

        Returns
        -------
        dict
            ``demographics`` (:func:`read_demographics`; empty when there is no table) and
            ``demographics_path`` (the table, or None).
        """
        path = find_demographics(root)
        return {"demographics": read_demographics(path) if path else {}, "demographics_path": path}

    def parse(self, path: Path, ctx: dict) -> dict | str:
        """A CREMA-D file name (``1001_DFA_ANG_XX``) as a manifest row, with the actor's demographics, or
        why it is not one.

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
            return "not AAAA_SSS_EEE_LL (e.g. 1001_DFA_ANG_XX)"
        actor, sent, emo, level = m.groups()
        if not 1001 <= int(actor) <= 1091:
            return f"actor {actor} out of range 1001-1091"
        if sent not in SENTENCES:
            return f"unknown sentence code {sent}"
        if emo not in EMOTIONS:
            return f"unknown emotion code {emo}"
        if level not in LEVELS:
            return f"unknown level {level}"
        demo = ctx.get("demographics", {}).get(actor, {})
        return {
            "utt_id": path.stem,
            "speaker": self.speaker_id(actor),
            "gender": demo.get("gender"),
            "age": demo.get("age"),
            "emotion": EMOTIONS[emo],
            "emotion_code": emo,
            "intensity": LEVELS[level],
            "sentence": sent,
            "text": SENTENCES[sent],
            "race": demo.get("race"),
            "ethnicity": demo.get("ethnicity"),
        }
