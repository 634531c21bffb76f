"""Convert audio files or whole trees to one rate and channel layout, keeping relative paths and names."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .audio import AUDIO_EXTENSIONS, find_audio, load_audio, resample
from .errors import AudioError

_FORMATS = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "VORBIS"),
            ".opus": ("OGG", "OPUS")}


def convert_file(src: str | Path, dst: str | Path, rate: int = 16000, mono: bool = True) -> Path:
    """Decode ``src``, resample to ``rate`` (and downmix when ``mono``), write ``dst`` by its extension."""
    import soundfile as sf

    src, dst = Path(src), Path(dst)
    fmt = _FORMATS.get(dst.suffix.lower())
    if fmt is None:
        raise AudioError(f"{dst}: cannot write {dst.suffix or 'no extension'}; use one of {', '.join(_FORMATS)}")
    if mono:
        y = load_audio(src, rate, min_duration=0.0)
    else:
        try:
            data, native = sf.read(str(src), dtype="float32", always_2d=True)
        except Exception:  # not libsndfile-readable: load_audio decodes (mono) or explains why not
            data, native = load_audio(src, rate, min_duration=0.0)[:, None], rate
        if data.size == 0:
            raise AudioError(f"{src}: zero samples")
        y = np.stack([resample(data[:, c], native, rate) for c in range(data.shape[1])], axis=1)
    dst.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(dst), y, rate, format=fmt[0], subtype=fmt[1])
    return dst


def convert_tree(
    src: str | Path, dst: str | Path, rate: int = 16000, mono: bool = True, ext: str | None = None,
    progress: bool = True,
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Convert every audio file under ``src`` into the same relative path under ``dst``.

    ``ext`` (e.g. ``.wav``) replaces each file's extension; by default it is kept where writable, else
    ``.wav``. Returns the written files and the ``(file, reason)`` of each file that failed.
    """
    from tqdm import tqdm

    src, dst = Path(src), Path(dst)
    files = find_audio(src)
    done, failed = [], []
    for f in tqdm(files, desc="convert", unit="file", disable=not progress):
        suffix = ext or (f.suffix.lower() if f.suffix.lower() in _FORMATS else ".wav")
        target = (dst / f.relative_to(src)).with_suffix(suffix if suffix.startswith(".") else "." + suffix)
        try:
            done.append(convert_file(f, target, rate, mono))
        except AudioError as exc:
            failed.append((str(f), str(exc)))
        except Exception as exc:  # a writer failure must not stop a tree conversion
            failed.append((str(f), f"{f}: {exc}"))
    return done, failed


__all__ = ["AUDIO_EXTENSIONS", "convert_file", "convert_tree"]
