"""Convert audio files or whole trees to one rate and channel layout, keeping relative paths and names."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from .audio import AUDIO_EXTENSIONS, find_audio, stream_audio
from .errors import AudioError
from .paths import Problem, display_path, replacing, write_failure

log = logging.getLogger("emovox.convert")

WRITABLE_FORMATS = {
    ".wav": ("WAV", "PCM_16"),
    ".flac": ("FLAC", "PCM_16"),
    ".ogg": ("OGG", "VORBIS"),
    ".opus": ("OGG", "OPUS"),
}


def suffix_problem(suffix: str) -> str | None:
    """Why a file of ``suffix`` (``.mp3``, ``mp3``, ``""``) cannot be written, or None: the one check of an
    output name and of ``--ext``.

    Parameters
    ----------
    suffix : str
        The extension, with or without its dot; empty for a name without one.

    Returns
    -------
    str or None

    Examples
    --------
    >>> suffix_problem("flac") is None, suffix_problem(".mp3")
    (True, 'cannot write a .mp3 file; use one of .wav, .flac, .ogg, .opus')
    """
    dotted = "." + suffix.lstrip(".") if suffix else ""
    if dotted.lower() in WRITABLE_FORMATS:
        return None
    what = f"a {dotted} file" if dotted else "a name without an extension"
    return f"cannot write {what}; use one of {', '.join(WRITABLE_FORMATS)}"


def convert_file(src: str | Path, dst: str | Path, rate: int = 16000, mono: bool = True) -> Path:
    """Decode ``src``, resample to ``rate`` (and downmix when ``mono``), write ``dst`` by its extension.

    The file is streamed block by block (memory stays bounded whatever its length), in two passes: the
    first finds the peak. A float file whose peaks pass full scale (say 8.0) would be clipped by the
    integer output, so it is scaled down to a peak of 0.999 instead, and one warning line says by how much.

    Parameters
    ----------
    src : str or Path
        Any audio file emovox reads.
    dst : str or Path
        The output, ``.wav``, ``.flac`` (16-bit PCM), ``.ogg`` (Vorbis) or ``.opus``; not ``src`` itself.
        Missing folders are made; it is written whole or not at all.
    rate : int
        Output sample rate in Hz (default 16000).
    mono : bool
        Downmix to one channel (default True); else the channels are kept.

    Returns
    -------
    Path
        ``dst``.

    Examples
    --------
    >>> import tempfile
    >>> import soundfile as sf
    >>> tmp = tempfile.TemporaryDirectory()
    >>> src = Path(tmp.name) / "in.wav"
    >>> sf.write(str(src), np.zeros((44100, 2), dtype=np.float32), 44100)  # 1 s of stereo at 44.1 kHz
    >>> info = sf.info(str(convert_file(src, Path(tmp.name) / "out.flac")))
    >>> info.samplerate, info.channels, info.frames
    (16000, 1, 16000)
    >>> tmp.cleanup()
    """
    import soundfile as sf

    src, dst = Path(src), Path(dst)
    if dst.is_dir():
        raise AudioError(
            f"{display_path(dst)}: is a folder; name the file to write, e.g. {display_path(dst / src.stem)}.wav"
        )
    if why := suffix_problem(dst.suffix):
        raise AudioError(f"{display_path(dst)}: {why}")
    fmt = WRITABLE_FORMATS[dst.suffix.lower()]
    if dst.exists() and dst.resolve() == src.resolve():
        raise AudioError(f"{display_path(dst)}: is the input; name another file to write")

    def chunks():
        return stream_audio(src, rate, mono=mono, chunk_seconds=30.0, full_scale=False)

    peak, channels = 0.0, 1
    for c in chunks():
        peak = max(peak, float(np.max(np.abs(c))) if c.size else 0.0)
        channels = 1 if c.ndim == 1 else c.shape[1]
    gain = 1.0
    if peak > 1.0:
        gain = 0.999 / peak
        log.warning(
            "%s: peaks at %.2f, above full scale; scaled by %.3f (%.1f dB) so that %s is not clipped",
            src,
            peak,
            gain,
            20 * np.log10(gain),
            dst.name,
        )
    # written whole or not at all, through a short temporary name (".NAME.part" overflowed a 255-byte name),
    # given to libsndfile as bytes (a name that is not UTF-8 could not be encoded)
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        with replacing(dst) as tmp:
            try:
                with sf.SoundFile(
                    os.fsencode(tmp), "w", rate, channels, format=fmt[0], subtype=fmt[1]
                ) as out:
                    for c in chunks():
                        out.write(c * gain if gain != 1.0 else c)
            except sf.SoundFileError as exc:  # (its "System error." hides a full disk or a file-size limit)
                raise AudioError(f"{display_path(dst)}: not written ({write_failure(tmp, exc)})") from None
    except OSError as exc:  # a full disk: one line naming the output, not a traceback
        raise AudioError(f"{display_path(dst)}: not written ({exc.strerror or exc})") from None
    return dst


def plan_tree(
    src: str | Path, dst: str | Path, ext: str | None = None, problems: list[str] | None = None
) -> list[tuple[Path, Path]]:
    """The ``(input, output)`` pairs of a tree conversion, checked before anything is written. ``problems``
    collects the entries found that cannot be read (a pipe, a device, a link loop; else they are logged).

    Raises :class:`AudioError` (one line) when ``src`` holds no audio file, or when two inputs would be
    written to the same output (``a.wav`` and ``a.m4a`` both become ``a.wav``): one would silently
    overwrite the other, so nothing is converted and the line names the colliding inputs.

    Parameters
    ----------
    src : str or Path
        The input folder.
    dst : str or Path
        The output folder (need not exist); files already under it are not inputs.
    ext : str, optional
        Output extension for every file (``.wav`` or ``wav``, ``.flac``, ``.ogg``, ``.opus``); None
        (default): each file's own where it can be written, else ``.wav``.
    problems : list of str, optional
        Receives one ``"<path>: <why>"`` line per entry that cannot be read; None (default): logged.

    Returns
    -------
    list of (Path, Path)
        ``(input, output)`` of every audio file under ``src``, the output at the same relative path under
        ``dst``.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> src = Path(tmp.name) / "in"
    >>> (src / "sub").mkdir(parents=True)
    >>> for name in ("a.flac", "sub/b.m4a"):
    ...     (src / name).touch()
    >>> [(f.name, t.relative_to(tmp.name).as_posix()) for f, t in plan_tree(src, Path(tmp.name) / "out")]
    [('a.flac', 'out/a.flac'), ('b.m4a', 'out/sub/b.wav')]
    >>> tmp.cleanup()
    """
    src, dst = Path(src), Path(dst)
    if ext is not None and (why := suffix_problem(ext)):
        raise AudioError(f"extension {ext}: {why}")
    if dst.exists() and not dst.is_dir():
        raise AudioError(f"{display_path(dst)}: exists and is not a folder; a folder converts into a folder")
    if dst.resolve() == src.resolve():
        raise AudioError(f"{display_path(dst)}: is the input folder; name another folder to write into")
    # an output folder inside the input: its files are earlier outputs, not inputs
    files = [f for f in find_audio(src, problems) if not f.resolve().is_relative_to(dst.resolve())]
    if not files:
        raise AudioError(f"{src}: no audio files in this folder (looked for {', '.join(AUDIO_EXTENSIONS)})")
    plan, by_target = [], {}
    for f in files:
        suffix = ext or (f.suffix.lower() if f.suffix.lower() in WRITABLE_FORMATS else ".wav")
        target = (dst / f.relative_to(src)).with_suffix(suffix if suffix.startswith(".") else "." + suffix)
        by_target.setdefault(target, []).append(f)
        plan.append((f, target))
    clashes = {t: fs for t, fs in by_target.items() if len(fs) > 1}
    if clashes:
        t, fs = next(iter(clashes.items()))
        more = f" (and {len(clashes) - 1} more output name(s) like it)" if len(clashes) > 1 else ""
        names = ", ".join(str(f) for f in fs[:-1]) + f" and {fs[-1]}"
        raise AudioError(
            f"{names} would {'both' if len(fs) == 2 else 'all'} be written to {t}{more}; nothing was "
            "converted: rename one of them, or convert them separately"
        )
    return plan


def convert_tree(
    src: str | Path,
    dst: str | Path,
    rate: int = 16000,
    mono: bool = True,
    ext: str | None = None,
    progress: bool = False,
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Convert every audio file under ``src`` into the same relative path under ``dst``.

    ``ext`` (e.g. ``.wav``) replaces each file's extension; by default it is kept where writable, else
    ``.wav``. Returns the written files and the ``(file, reason)`` of each file that failed (or could not
    be read at all: a pipe, a device, a link loop). A folder
    without audio, or two inputs that would be written to one output name, raise :class:`AudioError`
    before anything is written (see :func:`plan_tree`).

    Parameters
    ----------
    src : str or Path
        The input folder.
    dst : str or Path
        The output folder.
    rate : int
        Output sample rate in Hz (default 16000).
    mono : bool
        Downmix to one channel (default True).
    ext : str, optional
        Output extension for every file; None (default): as :func:`plan_tree` chooses.
    progress : bool
        Show a progress bar (default False).

    Returns
    -------
    (list of Path, list of (str, str))
        The files written, and ``(file, reason)`` of each file that failed.

    Examples
    --------
    >>> import tempfile
    >>> import soundfile as sf
    >>> tmp = tempfile.TemporaryDirectory()
    >>> src = Path(tmp.name) / "in"
    >>> src.mkdir()
    >>> sf.write(str(src / "a.wav"), np.zeros(8000, dtype=np.float32), 8000)
    >>> _ = (src / "b.wav").write_bytes(b"not audio")
    >>> done, failed = convert_tree(src, Path(tmp.name) / "out", progress=False)
    >>> [p.name for p in done], [Path(f).name for f, _ in failed]
    (['a.wav'], ['b.wav'])
    >>> tmp.cleanup()
    """
    from tqdm import tqdm

    problems: list[Problem] = []
    plan = plan_tree(src, dst, ext, problems)
    # an entry that is no file (a pipe, a device, a link loop) failed too: reported, and the exit says so
    done, failed = [], [(p.path, p) for p in problems]
    for f, target in tqdm(plan, desc="convert", unit="file", disable=not progress):
        try:
            done.append(convert_file(f, target, rate, mono))
        except AudioError as exc:
            failed.append((str(f), str(exc)))
        except Exception as exc:  # a writer failure must not stop a tree conversion
            failed.append((str(f), f"{display_path(f)}: {exc}"))
    return done, failed


__all__ = ["AUDIO_EXTENSIONS", "convert_file", "convert_tree", "plan_tree"]
