"""Corpus readers: any emotional-speech corpus on disk into one manifest table.

>>> from emovox.corpora import scan
>>> manifest, report = scan("../shared/corpora/emodb")   # doctest: +SKIP
>>> manifest.emotion.value_counts()["angry"]             # doctest: +SKIP
127
"""

from __future__ import annotations

import csv
import importlib
import logging
import os
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from ..audio.files import AUDIO_EXTENSIONS, hidden_audio_note
from ..audio.sniff import file_head, shown_head, sniff_format
from ..errors import CorpusError, did_you_mean
from ..paths import display_path, is_utf8
from .base import COLUMNS, Corpus, ScanReport, empty_manifest, find_audio

# name -> "module:Class"; imported on first use.
_REGISTRY = {
    "ravdess": "ravdess:Ravdess",
    "tess": "tess:Tess",
    "cremad": "cremad:CremaD",
    "savee": "savee:Savee",
    "emodb": "emodb:EmoDB",
    "emovo": "emovo:Emovo",
    "shemo": "shemo:ShEMO",
    "nemo": "nemo:Nemo",
}
CORPORA: tuple[str, ...] = tuple(_REGISTRY)
_ALIASES = {
    "crema-d": "cremad",
    "crema": "cremad",
    "emo-db": "emodb",
    "berlin": "emodb",
    "ravdess-song": "ravdess",
    "n-emo": "nemo",
}

log = logging.getLogger(__name__)


def get_reader(name: str) -> Corpus:
    """The reader for corpus ``name`` (case-insensitive; ``crema-d``/``emo-db`` spellings accepted).

    Parameters
    ----------
    name : str
        A corpus name of :data:`CORPORA`, or an accepted spelling of one.

    Returns
    -------
    Corpus
        A new reader.

    Raises
    ------
    CorpusError
        For an unknown corpus (the message lists the known ones).

    Examples
    --------
    >>> reader = get_reader("EMO-DB")
    >>> reader.name, reader.title, reader.language
    ('emodb', 'EMO-DB', 'de')
    """
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in _REGISTRY:
        raise CorpusError(
            f"unknown corpus {name!r}{did_you_mean(key, CORPORA)}; expected one of {', '.join(CORPORA)}"
        )
    mod, cls = _REGISTRY[key].split(":")
    return getattr(importlib.import_module(f"{__name__}.{mod}"), cls)()


def detect(files: Sequence[Path], root: Path | None = None) -> str:
    """Name the corpus whose convention the most ``files`` follow.

    Parameters
    ----------
    files : sequence of Path
        The audio files found (up to about 200 of them, evenly spread, are tried).
    root : Path, optional
        The folder they were found in: what the readers take their context from, and the name in errors.

    Returns
    -------
    str
        The corpus name (one of :data:`CORPORA`) whose reader parses the most of them.

    Examples
    --------
    >>> from pathlib import Path
    >>> detect([Path("03a01Fa.wav"), Path("03a01Wa.wav")]), detect([Path("03-01-05-01-02-01-12.wav")])
    ('emodb', 'ravdess')
    """
    if not files:
        raise CorpusError(
            f"{root}: no audio files found{hidden_audio_note(root) if os.path.isdir(root) else ''}"
        )
    sample = list(files)[:: max(1, len(files) // 200)]
    scores = Counter()
    for name in CORPORA:
        reader = get_reader(name)
        ctx = reader.context(root) if root else {}
        scores[name] = sum(isinstance(reader.parse(p, ctx), dict) for p in sample)
    best, hits = scores.most_common(1)[0]
    if hits == 0:
        raise CorpusError(
            f"{root}: no file follows a known corpus naming convention ({', '.join(CORPORA)}); "
            "name the corpus (--corpus) to see why each file is skipped"
        )
    return best


def _not_audio(path: str) -> str | None:
    """Why a file libsndfile could not open is not audio (unreadable, empty, or no audio container's first
    bytes), or None when it may be (ffmpeg reads more formats than libsndfile)."""
    head = file_head(path)
    if head is None:
        return "unreadable"
    if not head:
        return "empty file"
    return None if sniff_format(head) else f"not audio (first bytes {shown_head(head)})"


def _info_row(path: Path) -> tuple[float | None, int | None, int | None]:
    import soundfile as sf

    try:
        info = sf.info(os.fsencode(path))
        return info.frames / info.samplerate, info.samplerate, info.channels
    except Exception:
        return None, None, None


def scan(
    root: str | Path, corpus: str | None = None, *, audio_info: bool = True, warn: bool = True
) -> tuple[pd.DataFrame, ScanReport]:
    """Read every utterance of one corpus under ``root`` into a manifest.

    Parameters
    ----------
    root : path
        Any folder holding the corpus files, at any depth, with any audio extension emovox reads.
    corpus : str, optional
        The corpus name; detected from the file names when omitted.
    audio_info : bool
        Read duration, sample rate and channels from each file's header.
    warn : bool
        Log a warning when the folder holds audio but none of it follows the corpus's naming (a ``corpus``
        that is not this folder's): the manifest is then empty (:meth:`ScanReport.mismatch` says why, for
        callers that report it themselves).

    Returns
    -------
    (manifest, report)
        One row per utterance (columns :data:`COLUMNS` plus corpus-specific ones), and the report of
        files skipped because their names do not follow the convention.

    Raises
    ------
    CorpusError
        When ``root`` is not a folder, ``corpus`` is unknown, or (``corpus`` not given) no file follows a
        known convention.

    Examples
    --------
    >>> import soundfile as sf
    >>> from emovox.audio.synthetic import tone
    >>> Path("emodb").mkdir()
    >>> for name in ["03a01Fa.wav", "03a01Wa.wav", "08a02Ta.wav", "notes.wav"]:
    ...     sf.write(Path("emodb") / name, tone(220, 0.5), 16000)
    >>> manifest, report = scan("emodb")
    >>> manifest[["utt_id", "speaker", "emotion", "duration"]]
        utt_id   speaker emotion  duration
    0  03a01Fa  emodb:03   happy       0.5
    1  03a01Wa  emodb:03   angry       0.5
    2  08a02Ta  emodb:08     sad       0.5
    >>> report.skipped
    [('emodb/notes.wav', 'not SSTTTEV (e.g. 03a01Fa)')]
    """
    root = Path(root)
    if not root.exists():
        raise CorpusError(f"{root}: no such directory")
    if not root.is_dir():
        raise CorpusError(f"{root}: not a directory")
    unreadable: list[str] = []  # FIFOs, broken links, link loops: one line each in the report
    files = []
    for path in find_audio(root, unreadable):
        if not is_utf8(path):  # pandas' string columns (Arrow) cannot hold such a name
            unreadable.append(
                f"{display_path(path)}: file name is not valid UTF-8 (a manifest cannot hold it; "
                "rename the file); skipped"
            )
        else:
            files.append(path)
    name = get_reader(corpus).name if corpus else detect(files, root)
    reader = get_reader(name)
    ctx = reader.context(root)
    report = ScanReport(root=str(root), corpus=name, n_files=len(files))
    report.unreadable.extend(unreadable)
    rows = []
    for path in files:
        parsed = reader.parse(path, ctx)
        if isinstance(parsed, str):
            report.skipped.append((str(path), parsed))
            continue
        row = {"path": os.path.realpath(path), "corpus": name, "language": reader.language}
        row.update(parsed)
        rows.append(row)
    if not rows:
        report.n_rows = 0
        if warn and (problem := report.mismatch()):  # (else a script sees an empty table, and no why)
            log.warning("%s; give the corpus it is, or none to detect it", problem)
        return empty_manifest(), report
    df = pd.DataFrame(rows)
    if audio_info:
        with ThreadPoolExecutor(8) as pool:
            info = list(pool.map(_info_row, (Path(p) for p in df["path"])))
        df["duration"], df["sample_rate"], df["channels"] = zip(*info, strict=True)
        bad = {
            p: why
            for p, (d, _, _) in zip(df["path"], info, strict=True)
            if d is None and (why := _not_audio(p))
        }
        if bad:
            report.unreadable.extend(f"{display_path(p)}: {why}; skipped" for p, why in bad.items())
            df = df[~df["path"].isin(bad)].reset_index(drop=True)
            if not len(df):
                report.n_rows = 0
                return empty_manifest(), report
            df = df.astype({"sample_rate": "Int64", "channels": "Int64"})
    for col in COLUMNS:
        if col not in df:
            df[col] = None
    df = df[COLUMNS + [c for c in df.columns if c not in COLUMNS]]
    report.n_rows = len(df)
    return df, report


def scan_many(
    roots: Iterable[str | Path], corpora: Sequence[str | None] | None = None, *, audio_info: bool = True
) -> tuple[pd.DataFrame, list[ScanReport]]:
    """Scan several roots and concatenate them into one manifest.

    Each root holds one corpus, unless its corpus is not named and its sub-folders hold different
    corpora (a folder of corpora): then each sub-folder is scanned as a root of its own. ``corpora`` names
    one corpus per root, or one for every root.

    Parameters
    ----------
    roots : iterable of str or Path
        Corpus folders (or folders of corpus folders).
    corpora : sequence of str or None, optional
        The corpus of each root, or one for all of them; None (default) or a None entry: detected.
    audio_info : bool
        Read duration, sample rate and channels from each file's header (default True).

    Returns
    -------
    (pandas.DataFrame, list of ScanReport)
        The manifest of every root together (an empty manifest when none has a row), and one report per
        folder scanned (a folder of corpora gives one per sub-folder).

    Examples
    --------
    >>> import soundfile as sf
    >>> from emovox.audio.synthetic import tone
    >>> for name in ["corpora/emodb/03a01Fa.wav", "corpora/ravdess/03-01-05-01-02-01-12.wav"]:
    ...     Path(name).parent.mkdir(parents=True, exist_ok=True)
    ...     sf.write(name, tone(220, 0.5), 16000)
    >>> manifest, reports = scan_many(["corpora"], audio_info=False)  # a folder of two corpora
    >>> manifest[["corpus", "speaker", "emotion"]]
        corpus     speaker emotion
    0    emodb    emodb:03   happy
    1  ravdess  ravdess:12   angry
    >>> [r.corpus for r in reports]
    ['emodb', 'ravdess']
    """
    roots = list(roots)
    if any(not str(r).strip() for r in roots):
        raise CorpusError("'': an empty name, not a corpus folder")
    corpora = list(corpora) if corpora else [None] * len(roots)
    if len(corpora) == 1:
        corpora *= len(roots)
    if len(corpora) != len(roots):
        raise CorpusError(f"got {len(roots)} roots but {len(corpora)} corpus names")
    frames, reports = [], []
    for root, name in zip(roots, corpora, strict=True):
        for part in [root] if name else _corpus_folders(Path(root)):
            df, rep = scan(part, name, audio_info=audio_info, warn=False)  # its reports say it
            frames.append(df)
            reports.append(rep)
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_manifest(), reports
    df = pd.concat(frames, ignore_index=True)
    # a corpus's integer fields (RAVDESS's actor, repetition...) stay integers where other corpora lack
    # them, instead of turning into 1.0, 2.0 around the gaps
    for col in df.columns:
        if df[col].dtype.kind == "f" and all(f[col].dtype.kind in "iu" for f in frames if col in f):
            df[col] = df[col].astype("Int64")
    return df, reports


def _corpus_folders(root: Path) -> list[Path]:
    """``root``'s sub-folders when they hold audio of different corpora and ``root`` holds none of its own
    (a folder of corpora), else ``[root]``."""
    if not root.is_dir() or any(p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS for p in root.iterdir()):
        return [root]
    found: dict[Path, str] = {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = find_audio(sub, [])
        if files:
            try:
                found[sub] = detect(files, sub)
            except CorpusError:
                return [root]  # a sub-folder no reader knows: scan the whole as one, which reports it
    return list(found) if len(set(found.values())) > 1 else [root]


def read_manifest(path: str | Path) -> pd.DataFrame:
    """Read a manifest CSV written by :func:`write_manifest` (or by hand: ``path`` and ``emotion`` suffice).

    Relative paths are taken from the manifest's folder; an empty ``path`` cell stays ``""``, for the
    caller to report (:func:`empty_paths`). A speaker written without its corpus (``03``) is named as scans
    name it (``emodb:03``) where the row has a ``corpus``, so that two corpora's ``03`` stay two speakers.

    Parameters
    ----------
    path : str or Path
        The manifest: a CSV, or tab-separated text (UTF-8, or UTF-16 as Excel's "Unicode text" writes it).

    Returns
    -------
    pandas.DataFrame
        Its rows, each relative ``path`` joined onto the manifest's folder (absolute when ``path`` is);
        where a ``path`` cell is empty, ``attrs["lines"]`` holds the line each record starts on (the
        header's first), for the report.

    Raises
    ------
    CorpusError
        When ``path`` is not a file, is an audio file, cannot be read as a table, or has no ``path`` column.

    Examples
    --------
    >>> Path("lists").mkdir()
    >>> _ = Path("lists/m.csv").write_text("path,emotion,speaker,corpus\\nwav/a.wav,sad,03,emodb\\n")
    >>> m = read_manifest("lists/m.csv")
    >>> Path(m["path"][0]).as_posix(), m["speaker"][0]
    ('lists/wav/a.wav', 'emodb:03')
    """
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: no such manifest file")
    if path.suffix.lower() in AUDIO_EXTENSIONS or sniff_format(file_head(path) or b""):
        raise CorpusError(f"{path}: an audio file, not a manifest; give a manifest CSV or a corpus folder")
    try:
        # Excel's "Unicode text" is UTF-16 with tabs
        utf16 = (file_head(path) or b"")[:2] in (b"\xff\xfe", b"\xfe\xff")
        encoding = "utf-16" if utf16 else None
        with open(path, encoding=encoding or "utf-8", errors="replace") as f:
            first = f.readline()
        sep = "\t" if "\t" in first and "," not in first else ","
        header = next(csv.reader([first], delimiter=sep), [])
        with warnings.catch_warnings():  # a row with more fields than the header: an error, not lost data
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(
                path,
                dtype={"speaker": str, "emotion_code": str, "utt_id": str},
                encoding=encoding,
                sep=sep,
                index_col=False,  # (else extra fields became an index, and the path column held them)
            )
    except pd.errors.ParserWarning:
        line, n = _long_record(path, encoding or "utf-8", sep, len(header))
        raise CorpusError(
            f"{path} line {line}: {n} fields where the header has {len(header)}; quote a field that holds "
            f"{'a tab' if sep == chr(9) else 'a comma'}"
        ) from None
    except Exception as exc:
        why = " ".join(str(exc).split())[:160]
        raise CorpusError(f"{path}: not a readable CSV manifest ({why})") from None
    # (empty names, as Excel exports trailing columns, are told apart by pandas: Unnamed: 2, ...)
    if twice := sorted({h for h in header if h.strip() and header.count(h) > 1}):
        raise CorpusError(
            f"{path}: the header names {', '.join(map(repr, twice))} twice; keep one column each"
        )
    if "path" not in df:
        raise CorpusError(f"{path}: manifest has no 'path' column")
    base = path.parent
    cells = df["path"].fillna("").astype(str).str.strip()
    df["path"] = [p and str(p if Path(p).is_absolute() else (base / p)) for p in cells]
    if (cells == "").any():  # reported by line: a quoted newline or a blank line moves the rows down
        df.attrs["lines"] = _record_lines(path, encoding or "utf-8", sep)
    # "03" of EMO-DB and "03" of EMOVO are two people, as scans name them
    if {"speaker", "corpus"} <= set(df):
        bare = df["speaker"].notna() & df["corpus"].notna() & ~df["speaker"].str.contains(":", na=True)
        df.loc[bare, "speaker"] = df.loc[bare, "corpus"].astype(str) + ":" + df.loc[bare, "speaker"]
    return df


def _long_record(path: Path, encoding: str, sep: str, width: int) -> tuple[int, int]:
    """The line of the first record with more than ``width`` fields, and how many it has."""
    with open(path, encoding=encoding, errors="replace", newline="") as f:
        reader = csv.reader(f, delimiter=sep)
        for row in reader:
            if len(row) > width:
                return reader.line_num, len(row)
    return 0, width


def _record_lines(path: Path, encoding: str, sep: str) -> list[int]:
    """The line on which each record of a CSV starts (the header's first), as pandas counts records: blank
    lines skipped, a quoted newline inside one record."""
    starts, end = [], 0
    with open(path, encoding=encoding, errors="replace", newline="") as f:
        reader = csv.reader(f, delimiter=sep)
        for row in reader:
            if row:
                starts.append(end + 1)
            end = reader.line_num
    return starts


def empty_paths(df: pd.DataFrame, manifest: str | Path) -> list[str]:
    """One ``"<manifest> line N: empty 'path'"`` for each row of a :func:`read_manifest` table without one
    (N is the line of the file the row starts on, the header's being line 1).

    Parameters
    ----------
    df : pandas.DataFrame
        A table from :func:`read_manifest` (its ``attrs["lines"]``, when set, gives each row's line).
    manifest : str or Path
        The manifest's name, as the lines show it.

    Returns
    -------
    list of str
        One line per row whose ``path`` is ``""``, in row order; empty when there is none.

    Examples
    --------
    >>> empty_paths(pd.DataFrame({"path": ["a.wav", "", "c.wav"]}), "m.csv")
    ["m.csv line 3: empty 'path'"]
    """
    lines = df.attrs.get("lines") or []
    return [
        f"{manifest} line {lines[i + 1] if i + 1 < len(lines) else i + 2}: empty 'path'"
        for i in np.flatnonzero(df["path"].to_numpy() == "")
    ]


def write_manifest(df: pd.DataFrame, path: str | Path) -> None:
    """Write a manifest as CSV (UTF-8, one row per utterance), whole or not at all.

    Parameters
    ----------
    df : pandas.DataFrame
        The manifest, written without its index.
    path : str or Path
        The CSV file; missing folders are made.

    Returns
    -------
    None

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> m = pd.DataFrame({"path": ["a.wav"], "emotion": ["sad"], "speaker": ["03"], "corpus": ["emodb"]})
    >>> write_manifest(m, Path(tmp.name) / "m.csv")
    >>> read_manifest(Path(tmp.name) / "m.csv")["speaker"].tolist()
    ['emodb:03']
    >>> tmp.cleanup()
    """
    from ..paths import replacing

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp:
        df.to_csv(tmp, index=False)


def shared_dir() -> Path:
    """The project's shared data (corpora, EmoBox folds, encoder weights).

    Returns
    -------
    pathlib.Path
        ``$EMOVOX_SHARED`` when set; else the first ``shared`` folder holding ``corpora`` beside the working
        directory or one of its parents; else ``../shared`` (which need not exist).

    Examples
    --------
    >>> (shared_dir() / "corpora" / "emodb").parts[-2:]
    ('corpora', 'emodb')
    """
    if os.environ.get("EMOVOX_SHARED"):
        return Path(os.environ["EMOVOX_SHARED"])
    for parent in [Path.cwd(), *Path.cwd().parents]:
        if (parent / "shared" / "corpora").is_dir():
            return parent / "shared"
    return Path("../shared")


def shared_corpus(name: str, **kw: bool) -> pd.DataFrame:
    """The manifest of a corpus kept in :func:`shared_dir` (``ravdess``, ``emodb``), for recipes and benchmarks.

    Parameters
    ----------
    name : str
        The corpus, as its folder under ``corpora`` and its reader are named.
    **kw
        Passed to :func:`scan` (``audio_info``, ``warn``).

    Returns
    -------
    pandas.DataFrame
        The manifest, one row per utterance.

    Examples
    --------
    >>> emodb = shared_corpus("emodb", audio_info=False)  # doctest: +SKIP
    >>> len(emodb), emodb["speaker"].nunique()            # doctest: +SKIP
    (535, 10)
    """
    return scan(shared_dir() / "corpora" / name, name, **kw)[0]


def load_corpus(source: str | Path, corpus: str | None = None) -> pd.DataFrame:
    """A manifest from either a manifest CSV or a corpus root folder.

    Parameters
    ----------
    source : str or Path
        A manifest file (read by :func:`read_manifest`; a row without a ``path`` is an error) or a corpus
        folder (read by :func:`scan`).
    corpus : str, optional
        The corpus of a folder; None (default): detected from the file names. Unused for a manifest.

    Returns
    -------
    pandas.DataFrame
        The manifest, one row per utterance.

    Examples
    --------
    >>> load_corpus("")
    Traceback (most recent call last):
    ...
    emovox.errors.CorpusError: '': an empty name, not a manifest file or corpus folder
    """
    if not str(source).strip():  # Path("") is the current folder
        raise CorpusError("'': an empty name, not a manifest file or corpus folder")
    source = Path(source)
    if not source.exists():
        raise CorpusError(f"{source}: no such manifest file or corpus folder")
    if source.is_file():
        df = read_manifest(source)
        empty = empty_paths(df, source)
        if empty:
            more = f" (and {len(empty) - 3} more)" if len(empty) > 3 else ""
            raise CorpusError("; ".join(empty[:3]) + more)
        return df
    return scan(source, corpus)[0]


__all__ = [
    "COLUMNS",
    "CORPORA",
    "Corpus",
    "ScanReport",
    "detect",
    "find_audio",
    "get_reader",
    "empty_paths",
    "load_corpus",
    "read_manifest",
    "scan",
    "scan_many",
    "shared_corpus",
    "shared_dir",
    "write_manifest",
]
