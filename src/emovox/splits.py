"""Train/test splits of a manifest, speaker-independent by default.

Protocols (the strings the CLI's ``--protocol`` takes):

==========================  ===========================================================================
``kfold[:K]``               speaker-independent stratified group k-fold (default K=5): the default
``loso``                    leave one speaker out
``speakers:S1,S2``          an explicit list of test speakers (``ravdess:01`` or just ``01``)
``emobox``                  the published EmoBox partitions (``shared/folds/<corpus>.csv``)
``cross:A,B->C``            cross-corpus: train on corpora A and B, test on C
``loco``                    leave one corpus out: one fold per corpus, trained on all the others
``random[:0.25]``           random stratified split as the classic tutorials do (their seed 7 unless a seed
                            is given, 0 included; speakers on both sides)
==========================  ===========================================================================

Every :class:`Fold` knows which speakers it puts on both sides; a split that shares speakers says so.
Cross-corpus protocols (``cross``, ``loco``) set :attr:`Protocol.cross_corpus`: each test corpus is then
scored on the emotions it has (the model's probabilities renormalised over them), as a user who knows
which emotions occur would do with ``--emotions``.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import CorpusError, did_you_mean

log = logging.getLogger(__name__)


@dataclass
class Fold:
    """Indices (row positions in the manifest) of one train/test partition.

    Attributes
    ----------
    name : str
        The fold's name (``fold1``, a speaker, a corpus...).
    train, test : numpy.ndarray
        Row positions of the training and test sides (integers).
    shared_speakers : list of str
        Speakers on both sides (empty for a speaker-independent fold; ``["?"]`` when unknown); the property
        ``speaker_independent`` is True when it is empty.

    Examples
    --------
    >>> fold = Fold("fold1", np.array([0, 1]), np.array([2]), ["s1"])
    >>> fold.test.tolist(), fold.speaker_independent
    ([2], False)
    """

    name: str
    train: np.ndarray
    test: np.ndarray
    shared_speakers: list[str] = field(default_factory=list)

    @property
    def speaker_independent(self) -> bool:
        """No speaker on both sides of the fold."""
        return not self.shared_speakers


@dataclass
class Protocol:
    """A named list of folds over one manifest (made by :func:`make_protocol`).

    Attributes
    ----------
    name : str
        The protocol as reports name it (``kfold(5)``, ``loso``, ``cross(a->b)``...).
    folds : list of Fold
        Its folds, in order.
    note : str
        What a report should say of it (rows left out, how cross-corpus folds are scored); default ``""``.
    cross_corpus : bool
        The folds hold whole corpora out: each test corpus is scored on its own emotions (default False).

    The property ``speaker_independent`` is True when no fold has a speaker on both sides.

    Examples
    --------
    >>> m = pd.DataFrame({"speaker": ["s1", "s1", "s2", "s3"]})
    >>> p = leave_one_speaker_out(m)
    >>> p.name, [f.name for f in p.folds], p.speaker_independent
    ('loso', ['s1', 's2', 's3'], True)
    """

    name: str
    folds: list[Fold]
    note: str = ""
    #: folds hold whole corpora out: score each test corpus on its own emotions
    cross_corpus: bool = False

    @property
    def speaker_independent(self) -> bool:
        """No fold has a speaker on both sides."""
        return all(f.speaker_independent for f in self.folds)

    def describe(self) -> str:
        """One line for people: the protocol's name, its folds and test utterances, and its note.

        Returns
        -------
        str

        Examples
        --------
        >>> m = pd.DataFrame({"speaker": ["s1", "s1", "s2", "s3"]})
        >>> leave_one_speaker_out(m).describe()
        'loso: 3 fold(s), 4 test utterances in all; speaker-independent (no speaker on both sides)'
        """
        n_test = sum(len(f.test) for f in self.folds)
        text = f"{self.name}: {len(self.folds)} fold(s), {n_test} test utterances in all"
        if self.note:
            text += f"; {self.note}"
        if not self.speaker_independent:
            worst = max(self.folds, key=lambda f: len(f.shared_speakers))
            text += (
                f"; NOT speaker-independent: up to {len(worst.shared_speakers)} speaker(s) on both sides "
                "of a fold, so scores overstate accuracy on unseen speakers"
            )
        else:
            text += "; speaker-independent (no speaker on both sides)"
        return text


def _fold(manifest: pd.DataFrame, name: str, train, test) -> Fold:
    train, test = np.asarray(train, dtype=int), np.asarray(test, dtype=int)
    shared = sorted(set(manifest["speaker"].iloc[train]) & set(manifest["speaker"].iloc[test]))
    return Fold(name, train, test, shared)


def _need(manifest: pd.DataFrame, *cols: str) -> None:
    if len(manifest) == 0:
        raise CorpusError("manifest is empty")
    missing = [c for c in cols if c not in manifest or manifest[c].isna().all()]
    if missing:
        raise CorpusError(f"manifest lacks column(s) {missing} needed for this split")
    for c in cols:  # a row without its speaker (or corpus) cannot be put on one side of a split
        n = int(manifest[c].isna().sum())
        if n:
            raise CorpusError(f"{n} manifest row(s) have no {c}; this split needs the {c} of every row")


def random_split(
    manifest: pd.DataFrame, test_size: float = 0.25, random_state: int = 7, stratify: bool = True
) -> Protocol:
    """Random (stratified) split, as the tutorials do; speakers end up on both sides.

    Parameters
    ----------
    manifest : pandas.DataFrame
        One row per recording, with an ``emotion`` column (and ``speaker``, to list the shared speakers).
    test_size : float
        Share of the rows in the test set (default 0.25).
    random_state : int
        Seed of the split (default 7, the tutorials').
    stratify : bool
        Keep each emotion's share the same on both sides (default True).

    Returns
    -------
    Protocol
        One fold named ``random`` (row positions, sorted when there is a ``speaker`` column), whose
        ``shared_speakers`` lists the speakers on both sides (``["?"]`` without a ``speaker`` column).

    Examples
    --------
    >>> m = pd.DataFrame({"emotion": ["sad", "angry"] * 4, "speaker": ["s1", "s1", "s2", "s2"] * 2})
    >>> p = random_split(m)
    >>> p.name, len(p.folds[0].train), len(p.folds[0].test)
    ('random(0.25, seed 7)', 6, 2)
    """
    from sklearn.model_selection import train_test_split

    _need(manifest, "emotion")
    idx = np.arange(len(manifest))
    tr, te = train_test_split(
        idx,
        test_size=test_size,
        random_state=random_state,
        stratify=manifest["emotion"].values if stratify else None,
    )
    fold = (
        _fold(manifest, "random", np.sort(tr), np.sort(te))
        if "speaker" in manifest
        else Fold("random", np.sort(tr), np.sort(te), ["?"])
    )
    return Protocol(f"random({test_size:g}, seed {random_state})", [fold])


def group_kfold(manifest: pd.DataFrame, n_splits: int = 5, random_state: int = 0) -> Protocol:
    """Speaker-independent stratified group k-fold.

    Parameters
    ----------
    manifest : pandas.DataFrame
        One row per recording, with ``emotion`` and ``speaker`` columns (no speaker missing).
    n_splits : int
        Number of folds K (default 5); the manifest needs at least K speakers.
    random_state : int
        Seed of the shuffle that assigns speakers to folds (default 0). The assignment balances the
        emotions over the folds, which can leave only one for few speakers (EMO-DB's 10 in 5 folds): a
        seed that gives seed 0's folds is logged as a warning, since repeating over seeds then measures
        the training's spread, not the split's.

    Returns
    -------
    Protocol
        ``kfold(K)``: folds ``fold1`` ... ``foldK``; every speaker in exactly one fold's test set.

    Examples
    --------
    >>> m = pd.DataFrame({"emotion": ["sad", "angry"] * 6, "speaker": [f"s{i // 2}" for i in range(12)]})
    >>> p = group_kfold(m, 3)
    >>> p.name, [len(f.test) for f in p.folds], p.speaker_independent
    ('kfold(3)', [4, 4, 4], True)
    """
    from sklearn.model_selection import StratifiedGroupKFold

    _need(manifest, "emotion", "speaker")
    n_spk = manifest["speaker"].nunique()
    if n_spk < n_splits:
        raise CorpusError(f"kfold:{n_splits} needs at least {n_splits} speakers, the manifest has {n_spk}")

    def tests(seed: int) -> list[np.ndarray]:
        cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        return [te for _, te in cv.split(np.zeros(len(manifest)), manifest["emotion"], manifest["speaker"])]

    chosen = tests(random_state)
    if random_state and {tuple(t) for t in chosen} == {tuple(t) for t in tests(0)}:
        log.warning(
            "kfold:%d: seed %d gives the same folds as seed 0 on these data (the %d speakers can be shared "
            "out with the emotions balanced in one way only): another seed changes the training, not the split",
            n_splits,
            random_state,
            n_spk,
        )
    everything = np.arange(len(manifest))
    folds = [_fold(manifest, f"fold{i + 1}", np.setdiff1d(everything, te), te) for i, te in enumerate(chosen)]
    return Protocol(f"kfold({n_splits})", folds)


def leave_one_speaker_out(manifest: pd.DataFrame) -> Protocol:
    """One fold per speaker, that speaker alone in the test set.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Needs a ``speaker`` column set on every row.

    Returns
    -------
    Protocol
        ``loso``, folds named by speaker, in sorted order.

    Raises
    ------
    CorpusError
        When the manifest is empty or a row lacks its speaker.

    Examples
    --------
    >>> m = pd.DataFrame({"speaker": ["s2", "s1", "s2"]})
    >>> [(f.name, f.train.tolist(), f.test.tolist()) for f in leave_one_speaker_out(m).folds]
    [('s1', [0, 2], [1]), ('s2', [1], [0, 2])]
    """
    _need(manifest, "speaker")
    spk = manifest["speaker"].to_numpy()
    folds = [
        _fold(manifest, str(s), np.flatnonzero(spk != s), np.flatnonzero(spk == s)) for s in sorted(set(spk))
    ]
    return Protocol("loso", folds)


def _match_speakers(manifest: pd.DataFrame, wanted: list[str]) -> set[str]:
    all_spk = set(manifest["speaker"])
    out = set()
    for w in wanted:
        hits = {s for s in all_spk if s == w or s.split(":", 1)[-1] == w}
        if not hits:
            there = sorted(all_spk)
            shown = ", ".join(there[:12]) + (f", ... ({len(there)} in all)" if len(there) > 12 else "")
            raise CorpusError(f"test speaker {w!r} is not in the manifest; its speakers: {shown}")
        if len(hits) > 1 and w not in hits:  # one name, several people: said, as the protocol's name shows
            log.warning(
                "test speaker %s names %d speakers, one of each corpus (%s); write one of them to test one",
                w,
                len(hits),
                ", ".join(sorted(hits)),
            )
        out |= hits
    return out


def speaker_split(manifest: pd.DataFrame, test_speakers: list[str]) -> Protocol:
    """An explicit list of test speakers; every other speaker trains.

    Parameters
    ----------
    manifest : pandas.DataFrame
        One row per recording, with a ``speaker`` column.
    test_speakers : list of str
        Speakers as the manifest names them (``ravdess:01``) or without their corpus (``01``: that speaker
        of every corpus); each must match at least one row.

    Returns
    -------
    Protocol
        One fold named ``speakers`` (row positions), the protocol named after the matched test speakers.

    Examples
    --------
    >>> m = pd.DataFrame({"speaker": ["emodb:03", "emodb:08", "emodb:03"]})
    >>> p = speaker_split(m, ["03"])
    >>> p.name, p.folds[0].train.tolist(), p.folds[0].test.tolist()
    ('speakers(emodb:03)', [1], [0, 2])
    """
    _need(manifest, "speaker")
    test = _match_speakers(manifest, test_speakers)
    mask = manifest["speaker"].isin(test).to_numpy()
    if mask.all():
        raise CorpusError(
            f"speakers: every speaker of the data is a test speaker ({len(test)}); leave some to train on"
        )
    return Protocol(
        f"speakers({','.join(sorted(test))})",
        [_fold(manifest, "speakers", np.flatnonzero(~mask), np.flatnonzero(mask))],
    )


def cross_corpus(manifest: pd.DataFrame, train: list[str], test: list[str]) -> Protocol:
    """Train on the corpora ``train``, test on ``test``.

    Parameters
    ----------
    manifest : pandas.DataFrame
        One row per recording, with a ``corpus`` column.
    train : list of str
        The training corpora (names matched case-insensitively).
    test : list of str
        The test corpora, none of them in ``train``.

    Returns
    -------
    Protocol
        One fold per test corpus, named by it, each trained on every row of the ``train`` corpora;
        ``cross_corpus`` is True.

    Examples
    --------
    >>> m = pd.DataFrame({"corpus": ["a", "a", "b", "c"], "speaker": ["a:1", "a:2", "b:1", "c:1"]})
    >>> p = cross_corpus(m, ["a"], ["b", "C"])
    >>> p.name, [(f.name, f.train.tolist(), f.test.tolist()) for f in p.folds]
    ('cross(a->b+c)', [('b', [0, 1], [2]), ('c', [0, 1], [3])])
    """
    _need(manifest, "corpus")
    have = set(manifest["corpus"])
    named = {str(c).lower(): c for c in have}  # RAVDESS names the corpus ravdess: as a user types it
    train, test = ([named.get(c.lower(), c) for c in side] for side in (train, test))
    for c in [*train, *test]:
        if c not in have:
            raise CorpusError(f"corpus {c!r} is not in the manifest (it has {sorted(have)})")
    corp = manifest["corpus"].to_numpy()
    overlap = sorted(set(train) & set(test))
    if overlap:
        raise CorpusError(
            f"cross-corpus protocol has {overlap} on both sides; to test on unseen speakers of one corpus, "
            "use loso or kfold"
        )
    tr = np.flatnonzero(np.isin(corp, train))
    return Protocol(  # one fold per test corpus, each reported on its own
        f"cross({'+'.join(train)}->{'+'.join(test)})",
        [_fold(manifest, c, tr, np.flatnonzero(corp == c)) for c in dict.fromkeys(test)],
        CROSS_NOTE,
        cross_corpus=True,
    )


CROSS_NOTE = "each test corpus scored on the emotions it has"


def leave_one_corpus_out(manifest: pd.DataFrame) -> Protocol:
    """One fold per corpus: trained on every other corpus, tested on that one (fold named by the corpus).

    Parameters
    ----------
    manifest : pandas.DataFrame
        Needs a ``corpus`` column set on every row, with at least two corpora.

    Returns
    -------
    Protocol
        ``loco``, cross-corpus, folds in sorted corpus order.

    Raises
    ------
    CorpusError
        When the manifest is empty, a row lacks its corpus, or it holds one corpus only.

    Examples
    --------
    >>> import pandas as pd
    >>> manifest = pd.DataFrame({"corpus": ["a", "a", "b", "c"], "speaker": ["a:1", "a:2", "b:1", "c:1"]})
    >>> [(f.name, f.train.tolist(), f.test.tolist()) for f in leave_one_corpus_out(manifest).folds]
    [('a', [2, 3], [0, 1]), ('b', [0, 1, 3], [2]), ('c', [0, 1, 2], [3])]
    """
    _need(manifest, "corpus")
    corp = manifest["corpus"].astype(str).to_numpy()
    names = sorted(set(corp))
    if len(names) < 2:
        raise CorpusError(f"loco needs at least two corpora in the manifest, it has {names}")
    folds = [_fold(manifest, c, np.flatnonzero(corp != c), np.flatnonzero(corp == c)) for c in names]
    return Protocol("loco", folds, CROSS_NOTE, cross_corpus=True)


def default_folds_dir() -> Path:
    """Where :func:`emobox_folds` looks for the EmoBox partitions by default.

    Returns
    -------
    pathlib.Path
        ``$EMOVOX_FOLDS`` when set, else the ``folds`` folder of :func:`emovox.corpora.shared_dir` (neither
        need exist).

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"EMOVOX_FOLDS": "my/folds"}):
    ...     default_folds_dir().as_posix()
    'my/folds'
    """
    if os.environ.get("EMOVOX_FOLDS"):
        return Path(os.environ["EMOVOX_FOLDS"])
    from .corpora import shared_dir

    return shared_dir() / "folds"


def _no_folds(folds_dir: Path, corpus: str, given: bool) -> str:
    """Why there are no folds for ``corpus``, and how to point at them."""
    how = (
        "set EMOVOX_FOLDS=/path/to/folds, a folder of <corpus>.csv files (columns file, fold, split, "
        "emotion; the EmoBox release's partitions), or EMOVOX_SHARED to a folder that holds folds/"
    )
    if given:
        where = "the folds folder given"
    elif os.environ.get("EMOVOX_FOLDS"):
        where = "$EMOVOX_FOLDS"
    elif os.environ.get("EMOVOX_SHARED"):
        where = "$EMOVOX_SHARED/folds"
    else:
        where = (
            "the default: no shared/ folder was found beside the working directory or its parents"
            if not folds_dir.is_dir()
            else "shared/folds beside the working directory"
        )
    if not folds_dir.is_dir():
        return f"--protocol emobox needs the EmoBox folds: no folder {folds_dir.resolve()} ({where}); {how}"
    have = sorted(p.stem for p in folds_dir.glob("*.csv"))
    return (
        f"{folds_dir.resolve() / f'{corpus}.csv'}: no EmoBox folds for {corpus} in {where} "
        f"(it has {', '.join(have) if have else 'no CSVs'}); {how}"
    )


def emobox_folds(manifest: pd.DataFrame, folds_dir: str | Path | None = None) -> Protocol:
    """The published EmoBox partitions for the manifest's corpus (one corpus per manifest).

    Files are matched on (corpus, base name without extension), so ``.flac`` or ``.opus`` copies of the
    release's ``.wav`` files match. Manifest rows the folds do not list are left out of every fold, and
    listed files missing from the manifest are an error: the folds would not be the published ones.

    Parameters
    ----------
    manifest : pandas.DataFrame
        One corpus's recordings, with ``corpus``, ``utt_id`` (file name without extension), ``speaker`` and
        ``emotion`` columns.
    folds_dir : str or Path, optional
        Folder of ``<corpus>.csv`` files (columns ``file``, ``fold``, ``split``, ``emotion``); None (default):
        :func:`default_folds_dir`.

    Returns
    -------
    Protocol
        One fold per published fold, named ``fold<k>`` (row positions of the manifest, sorted).

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> published = {"file": ["a.wav", "b.wav"], "fold": [1, 1], "split": ["train", "test"], "emotion": ["Angry", "Sad"]}
    >>> pd.DataFrame(published).to_csv(Path(tmp.name) / "x.csv", index=False)
    >>> m = pd.DataFrame({"corpus": "x", "utt_id": ["b", "a"], "speaker": ["x:2", "x:1"], "emotion": ["sad", "angry"]})
    >>> p = emobox_folds(m, tmp.name)
    >>> p.name, [(f.name, f.train.tolist(), f.test.tolist()) for f in p.folds]
    ('emobox(x)', [('fold1', [1], [0])])
    >>> tmp.cleanup()
    """
    _need(manifest, "corpus", "utt_id", "speaker")
    corpora = sorted(set(manifest["corpus"]))
    if len(corpora) != 1:
        raise CorpusError(f"emobox folds apply to one corpus at a time; the manifest has {corpora}")
    corpus = corpora[0]
    given = folds_dir is not None
    folds_dir = Path(folds_dir) if folds_dir else default_folds_dir()
    csv = folds_dir / f"{corpus}.csv"
    if not csv.is_file():
        raise CorpusError(_no_folds(folds_dir, corpus, given))
    from .labels import EMOBOX

    table = pd.read_csv(csv)
    published = set(EMOBOX.get(e, e) for e in table["emotion"])
    table["key"] = table["file"].str.replace(r"\.[A-Za-z0-9]+$", "", regex=True)
    pos = {k: i for i, k in enumerate(manifest["utt_id"].astype(str))}
    # Files of emotions the manifest left out (e.g. --emotions four) are dropped from the folds too;
    # any other missing file means a partial corpus, on which the published folds cannot be reproduced.
    present = table["key"].isin(pos.keys())
    selected_out = ~table["emotion"].map(EMOBOX).isin(set(manifest["emotion"]))
    missing = sorted(set(table.loc[~present & ~selected_out, "key"]))
    if missing:
        raise CorpusError(
            f"{csv}: {len(missing)} file(s) of the published folds are not in the manifest, "
            f"e.g. {missing[:3]}; the folds cannot be reproduced on a partial corpus"
        )
    table = table[present]
    folds = []
    for k, g in table.groupby("fold", sort=True):
        tr = sorted(pos[x] for x in g.loc[g["split"] == "train", "key"])
        te = sorted(pos[x] for x in g.loc[g["split"] == "test", "key"])
        folds.append(_fold(manifest, f"fold{k}", tr, te))
    unused = len(manifest) - len(set(table["key"]))
    note = f"{unused} manifest rows not in the published folds were left out" if unused else ""
    used = set(manifest["emotion"])
    if used != published:  # --emotions or --merge: the folds' speakers, not the published task's figure
        name = f"emobox({corpus}; {len(used)} emotions, not the published {len(published)}-class task)"
    else:
        name = f"emobox({corpus})"
    return Protocol(name, folds, note)


def refuse_duplicates(manifest: pd.DataFrame) -> None:
    """Raise :class:`CorpusError` when a file is listed more than once: on both sides of a split it would
    inflate every figure (a folder scanned twice once gave 98 % UA).

    Parameters
    ----------
    manifest : pandas.DataFrame
        The rows; without a ``path`` column nothing is checked. Two spellings of one file (a relative path,
        ``./``, a link) count as one file.

    Raises
    ------
    CorpusError
        When a file is listed more than once.

    Examples
    --------
    >>> refuse_duplicates(pd.DataFrame({"path": ["wav/a.wav", "wav/./a.wav"]}))
    Traceback (most recent call last):
    ...
    emovox.errors.CorpusError: 1 file(s) appear more than once in the manifest (e.g. wav/./a.wav); remove the duplicates
    """
    if "path" not in manifest:
        return
    # one file under two spellings (wav/./a.wav, a relative path, a link) is still one file
    real = manifest["path"].astype(str).map(lambda p: os.path.realpath(p) if p else p)
    twice = manifest["path"][real.duplicated()]
    if len(twice):
        raise CorpusError(
            f"{len(twice)} file(s) appear more than once in the manifest (e.g. {twice.iloc[0]}); "
            "remove the duplicates"
        )


PROTOCOLS = ("kfold", "loso", "speakers", "emobox", "loco", "cross", "random")
PROTOCOL_CHOICES = "kfold[:K], loso, speakers:S1,S2, emobox, loco, cross:A,B->C, random[:F]"


def protocol_problem(
    spec: str, names: tuple[str, ...] = PROTOCOLS, choices: str = PROTOCOL_CHOICES
) -> str | None:
    """Why ``spec`` cannot name a protocol (what was expected, in one line), or None. Only the spelling:
    whether the data fit it (enough speakers, corpora) is known once they are read. ``names`` and
    ``choices``: the protocols accepted and how to list them (the CLI adds ``none`` where it trains).

    Parameters
    ----------
    spec : str
        A protocol as the CLI's ``--protocol`` takes it (``kfold:5``, ``cross:A,B->C``...).
    names : tuple of str
        The protocol names accepted (default :data:`PROTOCOLS`).
    choices : str
        How the accepted protocols are listed in the message (default :data:`PROTOCOL_CHOICES`).

    Returns
    -------
    str or None
        One line saying what is wrong and what was expected; None when ``spec`` is well formed.

    Examples
    --------
    >>> protocol_problem("kfold:1")
    'K must be a whole number of folds >= 2 (e.g. kfold:5); expected kfold[:K], loso, speakers:S1,S2, emobox, loco, cross:A,B->C, random[:F]'
    >>> protocol_problem("loso") is None
    True
    """
    name, sep, arg = str(spec).partition(":")
    name, arg = name.strip().lower(), arg.strip()
    if name not in names:
        return f"unknown protocol{did_you_mean(name, names)}; expected {choices}"
    if name == "kfold" and sep:
        if not re.fullmatch(r"\d+", arg) or int(arg) < 2:
            return f"K must be a whole number of folds >= 2 (e.g. kfold:5); expected {choices}"
    elif name == "random" and sep:
        try:
            frac = float(arg)
        except ValueError:
            frac = -1.0
        if not 0.0 < frac < 1.0:
            return "F must be the test fraction, between 0 and 1 (e.g. random:0.25)"
    elif name == "speakers" and not any(s.strip() for s in arg.split(",")):
        return "name the test speakers, e.g. speakers:03,07 or speakers:ravdess:03"
    elif name == "cross":
        src, _, dst = arg.partition("->")
        if not src.strip(" ,") or not dst.strip(" ,"):
            return "expected cross:TRAIN1,TRAIN2->TEST, e.g. cross:ravdess,emodb->emovo"
    elif name in ("loso", "emobox", "loco", "none") and sep:
        return f"{name} takes no ':' argument; expected {choices}"
    return None


def make_protocol(
    manifest: pd.DataFrame,
    spec: str = "kfold",
    *,
    random_state: int | None = None,
    folds_dir: str | Path | None = None,
) -> Protocol:
    """Build the protocol named by ``spec`` (see the module docstring). ``random_state`` None: 0, and the
    tutorials' 7 for ``random``.

    Parameters
    ----------
    manifest : pandas.DataFrame
        One row per recording: ``emotion`` and the columns the protocol needs (``speaker``, ``corpus``,
        ``utt_id``); a file listed twice (by ``path``) is refused.
    spec : str
        The protocol (default ``"kfold"``: 5 folds).
    random_state : int, optional
        Seed of ``kfold`` and ``random`` (default None: 0 for ``kfold``, 7 for ``random``).
    folds_dir : str or Path, optional
        Where ``emobox`` finds its folds (default :func:`default_folds_dir`).

    Returns
    -------
    Protocol
        The folds (row positions of ``manifest``).

    Examples
    --------
    >>> m = pd.DataFrame({"corpus": ["a", "a", "b"], "speaker": ["a:1", "a:2", "b:1"], "emotion": ["sad", "angry", "sad"]})
    >>> [f.name for f in make_protocol(m, "loso").folds]
    ['a:1', 'a:2', 'b:1']
    >>> make_protocol(m, "cross:a->b").folds[0].test.tolist()
    [2]
    """
    if problem := protocol_problem(spec):
        raise CorpusError(f"bad protocol {spec!r}: {problem}")
    name, _, arg = spec.partition(":")
    name, arg = name.strip().lower(), arg.strip()
    refuse_duplicates(manifest)
    try:
        if name == "kfold":
            return group_kfold(manifest, int(arg or 5), random_state or 0)
        if name == "loso":
            return leave_one_speaker_out(manifest)
        if name == "speakers":
            return speaker_split(manifest, [s for s in arg.split(",") if s])
        if name == "emobox":
            return emobox_folds(manifest, folds_dir)
        if name == "random":
            seed = 7 if random_state is None else random_state
            return random_split(manifest, float(arg or 0.25), random_state=seed)
        if name == "loco":
            return leave_one_corpus_out(manifest)
        src, _, dst = arg.partition("->")  # cross
        return cross_corpus(
            manifest, *([c.strip() for c in side.split(",") if c.strip()] for side in (src, dst))
        )
    except ValueError as exc:
        raise CorpusError(f"bad protocol {spec!r}: {exc}") from None
