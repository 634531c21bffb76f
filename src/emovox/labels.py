"""One emotion taxonomy for every corpus.

Canonical labels are English words; each corpus module maps its own codes onto them:

============  =======  ======  =======  =====  ======  =====  =====  =========  =======
canonical     RAVDESS  TESS    CREMA-D  SAVEE  EMO-DB  EMOVO  ShEMO  nEMO       EmoBox
============  =======  ======  =======  =====  ======  =====  =====  =========  =======
neutral       01       neutral NEU      n      N       neu    N      neutral    Neutral
calm          02       -       -        -      -       -      -      -          Calm
happy         03       happy   HAP      h      F       gio    H      happiness  Happy
sad           04       sad     SAD      sa     T       tri    S      sadness    Sad
angry         05       angry   ANG      a      W       rab    A      anger      Angry
fearful       06       fear    FEA      f      A       pau    F      fear       Fear
disgust       07       disgust DIS      d      E       dis    -      -          Disgust
surprised     08       ps      -        su     -       sor    W      surprised  Surprise
boredom       -        -       -        -      L       -      -      -          Boredom
============  =======  ======  =======  =====  ======  =====  =====  =========  =======

Merges (``calm -> neutral`` is the usual one) and subsets (the classic 4-emotion set
``angry,happy,neutral,sad``) are applied to a manifest with :func:`apply_labels`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import pandas as pd

from .errors import CorpusError, LabelError, did_you_mean

log = logging.getLogger(__name__)

CANONICAL: tuple[str, ...] = (
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
    "boredom",
)

#: The seven emotions most corpora share; the bundled model predicts these.
SEVEN: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "fearful", "disgust", "surprised")
#: The classic four-emotion setup.
FOUR: tuple[str, ...] = ("angry", "happy", "neutral", "sad")

#: Named merges users can ask for by name.
MERGES: dict[str, dict[str, str]] = {
    "calm-neutral": {"calm": "neutral"},
    "boredom-neutral": {"boredom": "neutral"},
}

# EmoBox's label names, used by the published folds in shared/folds/*.csv.
EMOBOX: dict[str, str] = {
    "Neutral": "neutral",
    "Calm": "calm",
    "Happy": "happy",
    "Sad": "sad",
    "Angry": "angry",
    "Fear": "fearful",
    "Disgust": "disgust",
    "Surprise": "surprised",
    "Boredom": "boredom",
}

_ALIASES = {
    "neu": "neutral",
    "happiness": "happy",
    "joy": "happy",
    "sadness": "sad",
    "anger": "angry",
    "fear": "fearful",
    "disgusted": "disgust",
    "surprise": "surprised",
    "bored": "boredom",
    "pleasant_surprise": "surprised",
    "pleasant_surprised": "surprised",
    "ps": "surprised",
}


def canonical(label: str) -> str:
    """Return the canonical name of ``label`` (case-insensitive; common synonyms accepted).

    Parameters
    ----------
    label : str
        An emotion name or alias (surrounding spaces ignored).

    Returns
    -------
    str
        One of :data:`CANONICAL`.

    Raises
    ------
    CorpusError
        When ``label`` is not a known emotion.

    Examples
    --------
    >>> canonical("Fear"), canonical("surprise"), canonical("angry")
    ('fearful', 'surprised', 'angry')
    """
    key = label.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in CANONICAL:
        raise CorpusError(f"unknown emotion {label!r}; expected one of {', '.join(CANONICAL)}")
    return key


#: The emotion lists ``--emotions`` takes by name (``all``: every canonical label).
NAMED_SETS: dict[str, tuple[str, ...]] = {
    "four": FOUR,
    "4": FOUR,
    "seven": SEVEN,
    "7": SEVEN,
    "all": CANONICAL,
}


def with_sets(names: str | Iterable[str], everything: Iterable[str] = CANONICAL) -> list[str]:
    """Emotion names (a list, or one comma-separated string), each named set among them (:data:`NAMED_SETS`;
    ``all``: ``everything``) put as its emotions; stripped, empty ones left out, in the order given.

    Parameters
    ----------
    names : str or iterable of str
        Emotion names and set names (``four``, ``seven``, ``all``...), or one comma-separated string of them.
    everything : iterable of str
        What ``all`` stands for (default :data:`CANONICAL`).

    Returns
    -------
    list of str
        The names, sets expanded; names are not checked or made canonical, and repeats are kept.

    Examples
    --------
    >>> with_sets("four, surprised")
    ['angry', 'happy', 'neutral', 'sad', 'surprised']
    """
    out: list[str] = []
    for name in names.split(",") if isinstance(names, str) else names:
        key = name.strip().lower()
        if key == "all":
            out += everything
        elif key in NAMED_SETS:
            out += NAMED_SETS[key]
        elif key:
            out.append(name.strip())
    return out


def parse_emotions(spec: str | Iterable[str] | None) -> list[str] | None:
    """Parse ``"angry,happy,neutral,sad"``, ``"four"``/``"seven"`` (also in a list: ``"four,surprised"``), or a
    list, into canonical labels, each once.

    Parameters
    ----------
    spec : str, iterable of str or None
        Emotion names, aliases or named sets; a string is split at commas.

    Returns
    -------
    list of str or None
        Canonical labels in the order given; None for None.

    Raises
    ------
    CorpusError
        When a name is not a known emotion.

    Examples
    --------
    >>> parse_emotions("four,surprise")
    ['angry', 'happy', 'neutral', 'sad', 'surprised']
    """
    if spec is None:
        return None
    return list(dict.fromkeys(_named(s, set()) for s in with_sets(spec)))


def parse_merge(spec: str | Mapping[str, str] | None, own: Iterable = ()) -> dict[str, str]:
    """Parse ``"calm=neutral,boredom=neutral"`` or a named merge (``calm-neutral``) into a mapping; ``own``:
    labels of the data's own taxonomy, which it may name too (``excited=happy``).

    Parameters
    ----------
    spec : str, mapping or None
        ``FROM=TO`` (or ``FROM->TO``) pairs separated by commas, names of :data:`MERGES`, or a mapping.
    own : iterable
        The data's own labels, accepted beside the canonical emotions (default none).

    Returns
    -------
    dict of str to str
        Each merged label -> what it becomes (a label merged into itself left out); empty for no ``spec``.

    Raises
    ------
    CorpusError
        When a part is malformed or names an unknown label, a label is merged into two, or merges chain.

    Examples
    --------
    >>> parse_merge("calm=neutral"), parse_merge("calm-neutral")
    ({'calm': 'neutral'}, {'calm': 'neutral'})
    """
    if not spec:
        return {}
    own = set(own)
    if isinstance(spec, Mapping):
        return {_named(k, own): _named(v, own) for k, v in spec.items()}
    out: dict[str, str] = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if part in MERGES:
            pairs = list(MERGES[part].items())
        elif "=" not in part and "->" not in part:
            raise LabelError(
                f"bad merge {part!r}: expected FROM=TO (e.g. calm=neutral) or one of {list(MERGES)}"
            )
        else:
            src, dst = part.replace("->", "=").split("=", 1)
            pairs = [(_named(src, own), _named(dst, own))]
        for src, dst in pairs:
            if out.get(src, dst) != dst:  # the last would win unseen
                raise LabelError(f"merge {spec!r}: {src} is merged into both {out[src]} and {dst}")
            out[src] = dst
    out = {k: v for k, v in out.items() if k != v}
    if set(out) & set(out.values()):  # merges apply once, not in a chain: say so rather than merge half-way
        ends = {}
        for k in out:
            seen, v = [k], out[k]
            while v in out:
                if v in seen:
                    raise LabelError(f"merge {spec!r}: {' and '.join(seen)} merge into each other")
                seen.append(v)
                v = out[v]
            ends[k] = v
        raise LabelError(
            f"merge {spec!r}: merges do not chain (write {','.join(f'{k}={v}' for k, v in ends.items())})"
        )
    return out


def apply_labels(
    manifest: pd.DataFrame,
    merge: str | Mapping[str, str] | None = None,
    emotions: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """Merge labels, then keep only the rows whose emotion is in ``emotions`` (all when None).

    The original corpus code stays in ``emotion_code``; ``emotion`` holds the (merged) canonical label: a
    hand-written ``Angry`` or ``anger`` is ``angry``, as ``--emotions`` reads them; names emovox does not
    know are kept as they are (a taxonomy of one's own).

    Parameters
    ----------
    manifest : pandas.DataFrame
        One row per recording, with an ``emotion`` column; it is not modified.
    merge : str or mapping, optional
        Merges, as :func:`parse_merge` reads them (``"calm=neutral"``, ``"calm-neutral"``, a dict); None
        (default): none.
    emotions : str or iterable of str, optional
        The emotions kept, as :func:`parse_emotions` reads them (``"four"``, ``"angry,sad"``); None
        (default): all.

    Returns
    -------
    pandas.DataFrame
        A copy with the merged canonical labels, only the kept rows, and a fresh index.

    Examples
    --------
    >>> m = pd.DataFrame({"emotion": ["Angry", "calm", "sad", "boredom"]})
    >>> apply_labels(m, merge="calm-neutral", emotions="neutral,angry")["emotion"].tolist()
    ['angry', 'neutral']
    """
    out, keep, merged = _apply_labels(manifest, merge, emotions)
    _say_absent(out, keep, merged, emotions)
    return out


def _say_absent(out: pd.DataFrame, keep, merged: dict, emotions, head: str = "") -> None:
    """A warning naming the emotions chosen that the rows have none of: a model and its figures would
    silently lack them. ("all" is whatever the data has; an emotion merged into another is there under that
    one's name; an emotion merged into one not chosen is named too: its rows went with the merge.)"""
    names = emotions.split(",") if isinstance(emotions, str) else emotions or ()
    if any(str(n).strip().lower() == "all" for n in names):
        return
    for k in keep or ():
        if k in merged and merged[k] not in keep:  # merged first, then chosen: its rows went with the merge
            log.warning(
                "%s%s is merged into %s before the emotions are chosen, so its recordings are left out; "
                "choose %s too, or drop the merge",
                head,
                k,
                merged[k],
                merged[k],
            )
    if out.empty:
        return
    absent = [str(k) for k in keep or () if k not in merged and not (out["emotion"] == k).any()]
    if absent:
        log.warning(
            "%sno recordings of %s among the emotions chosen; the data has %s",
            head,
            ", ".join(absent),
            ", ".join(map(str, label_order(out["emotion"]))),
        )


def _apply_labels(manifest, merge, emotions) -> tuple[pd.DataFrame, list | None, dict]:
    """:func:`apply_labels`' rows, the emotions kept as it read ``emotions`` (None: all), and the merge."""
    out = manifest.copy()
    own: set = set()  # labels of a taxonomy of one's own, which emotions= may name too
    if "emotion" in out:
        names = {}
        for e in out["emotion"].dropna().unique():
            try:
                names[e] = canonical(str(e))
            except CorpusError:
                names[e] = e
                own.add(e)
        out["emotion"] = out["emotion"].map(lambda e: names.get(e, e))
    keep = None if emotions is None else list(dict.fromkeys(_named(s, own) for s in with_sets(emotions)))
    mapping = parse_merge(merge, own)
    if mapping:
        out["emotion"] = out["emotion"].map(lambda e: mapping.get(e, e))
    if keep is not None:
        out = out[out["emotion"].isin(keep)]
    return out.reset_index(drop=True), keep, mapping or {}


def select_labels(
    manifest: pd.DataFrame,
    merge: str | Mapping[str, str] | None = None,
    emotions: str | Iterable[str] | None = None,
    name: str | None = None,
) -> pd.DataFrame:
    """:func:`apply_labels`, refusing what it cannot select on: a manifest without an ``emotion`` column or
    with rows that have none, and a selection that leaves no row (what ``--merge`` / ``--emotions`` and
    :func:`emovox.experiments.evaluate`'s ``merge=`` / ``emotions=`` do). ``name``: the manifest as errors
    name it.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Rows with an ``emotion`` column.
    merge, emotions
        As :func:`apply_labels` takes them.
    name : str, optional
        Prefixes each error (default None: none).

    Returns
    -------
    pandas.DataFrame
        The rows kept, their labels merged.

    Raises
    ------
    CorpusError
        One line saying what is missing, or which emotions the manifest has.

    Examples
    --------
    >>> m = pd.DataFrame({"emotion": ["angry", "sad"]})
    >>> select_labels(m, emotions="angry,happy")["emotion"].tolist()
    ['angry']
    >>> select_labels(m, emotions="happy,neutral")
    Traceback (most recent call last):
    ...
    emovox.errors.CorpusError: no rows left after the label selection (emotions / merge); the manifest has angry, sad
    """
    head = f"{name}: " if name else ""
    if "emotion" not in manifest:
        raise CorpusError(f"{head}the manifest has no 'emotion' column (one label per row is needed)")
    unlabelled = manifest["emotion"].isna() | (manifest["emotion"].astype(str).str.strip() == "")
    if unlabelled.any():
        example = (
            manifest["path"][unlabelled].iloc[0] if "path" in manifest else "row " + str(unlabelled.idxmax())
        )
        raise CorpusError(
            f"{head}{int(unlabelled.sum())} row(s) have no emotion (e.g. {example}); fill them in or remove them"
        )
    out, keep, merged = _apply_labels(manifest, merge, emotions)
    _say_absent(out, keep, merged, emotions, head)
    if out.empty:
        have = ", ".join(sorted(map(str, manifest["emotion"].unique())))
        raise CorpusError(
            f"{head}no rows left after the label selection (emotions / merge); the manifest has {have}"
        )
    return out


def _named(name: str, own: set) -> str:
    """``name`` as :func:`canonical` reads it, or the data's own label it names (case aside); else a
    :class:`LabelError` with the closest known name."""
    try:
        return canonical(name)
    except CorpusError as exc:
        mine = {str(o).casefold(): o for o in own}
        if (key := str(name).strip().casefold()) in mine:
            return mine[key]
        known = [*CANONICAL, *_ALIASES, *NAMED_SETS, *mine]
        hint = did_you_mean(key, known, lambda w: mine.get(w) or _ALIASES.get(w, w))
        own_too = f"; or one of the data's own: {', '.join(sorted(map(str, own)))}" if own else ""
        raise LabelError(f"{exc}{own_too}{hint}") from None


def label_order(y: Iterable[str]) -> list[str]:
    """The distinct labels of ``y`` in emovox's order: the canonical emotions first (as in
    :data:`CANONICAL`), then any others alphabetically.

    Parameters
    ----------
    y : iterable of str
        Labels, repeated or not.

    Returns
    -------
    list of str

    Examples
    --------
    >>> label_order(["bored", "angry", "sad", "sad"])
    ['sad', 'angry', 'bored']
    """
    present = set(y)
    return [lab for lab in CANONICAL if lab in present] + sorted(present - set(CANONICAL))
