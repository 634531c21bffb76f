"""The learned "no speech" check (``emovox.speech_head``) beside the signal check, on what it never saw.

    python benchmarks/bench_speech_head.py [--every 10] [--pieces 200] [--clips 40]

Features: the bundled default's front end (Whisper-base int8, layers 2-5, mean over the voiced frames),
the training features from the cache. Each head is fitted as the bundled one is (training recordings and
their channel-augmented copies against generated non-speech, seeds from 1000), except for what is held out:

- speech, **leave one corpus out**: a head fitted without the corpus scores all of its recordings, and on
  every ``--every``-th one also white noise at 10 dB SNR, the telephone band, and a rendered MIDI piece
  mixed in at 10 / 5 / 0 dB SNR (speech still the louder or as loud): the share kept as speech;
- espeak-ng sentences in several voices and languages (synthetic speech, never in training);
- non-speech, **leave one kind out**: each kind of generated clip (seeds 0 to ``--clips``-1, 3 s) by a head
  fitted without that kind; the share rejected;
- **real instruments**, never in training: ``--pieces`` General MIDI pieces rendered by FluidSynth
  (``emovox.audio.synthetic.midi_piece``): rejected by the signal check alone, by the head alone, by both.

Prints markdown tables. Needs fluidsynth and fluid-soundfont-gm (Debian) and espeak-ng.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_loco import CORPORA, manifest  # noqa: E402
from common import machine, md_table  # noqa: E402

from emovox.audio import load_audio, resample  # noqa: E402
from emovox.audio.synthetic import NON_SPEECH, add_noise, midi_piece, non_speech, render_midi, telephone  # noqa: E402
from emovox.inference import load_model  # noqa: E402
from emovox.speech import detect_speech  # noqa: E402
from emovox.speech_head import THRESHOLD, fit_speech_head, non_speech_signals  # noqa: E402
from emovox.training import compute_features, resolve_recipe  # noqa: E402

ESPEAK_VOICES = ("en", "en-us", "en+f3", "en+m3", "de", "de+f2", "it", "pl", "fr", "es")
SENTENCES = (
    "The weather is nice today and I am going for a walk.",
    "I can't believe you did that to me!",
    "Please leave the door open when you go.",
    "Where did you put the keys yesterday evening?",
    "We will meet again at the station tomorrow.",
)


def mix(speech: np.ndarray, other: np.ndarray, snr_db: float) -> np.ndarray:
    other = np.resize(other, speech.shape)  # repeated or cut to the speech's length
    gain = np.sqrt(np.mean(speech**2) / (np.mean(other**2) + 1e-12) / 10 ** (snr_db / 10))
    return (speech + gain * other).astype(np.float32)


def pct(x) -> str:
    return f"{100 * float(np.mean(x)):.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--every", type=int, default=10, help="degrade every N-th file of each corpus")
    ap.add_argument("--pieces", type=int, default=200, help="rendered MIDI pieces")
    ap.add_argument("--clips", type=int, default=40, help="generated non-speech clips per kind")
    args = ap.parse_args()
    t0 = time.perf_counter()
    model = load_model()

    def embed(y: np.ndarray) -> np.ndarray:
        return np.asarray(model.embed(y), dtype=np.float64).ravel()

    df = manifest()
    table = compute_features(df, resolve_recipe("whisper-robust"), n_jobs=2, quantize=True, progress=False)
    corpus = table.manifest["corpus"].to_numpy()
    aug = np.vstack(list(table.augmented.values()))
    train_other = non_speech_signals()  # what the bundled head is fitted on (seeds from 1000)
    other_kind = np.array([k for k, _ in train_other])
    other_X = np.stack([embed(y) for _, y in train_other])

    print("rendering and embedding the MIDI pieces", file=sys.stderr)
    pieces = [render_midi(midi_piece(s)) for s in range(args.pieces)]
    piece_X = np.stack([embed(y) for y in pieces])
    piece_dsp = np.array([detect_speech(y).speech for y in pieces])

    # speech: leave one corpus out
    rows = []
    for c in CORPORA:
        held = corpus == c
        copies = np.tile(held, len(table.augmented))
        head = fit_speech_head(np.vstack([table.X[~held], aug[~copies]]), other_X)
        kept = head.probability(table.X[held]) >= THRESHOLD
        paths = table.manifest["path"].to_numpy()[held][:: args.every]
        degraded = {"noise 10 dB": [], "telephone": [], "music 10 dB": [], "music 5 dB": [], "music 0 dB": []}
        for i, p in enumerate(paths):
            y = load_audio(p, 16000)
            piece = pieces[i % len(pieces)]
            for name, z in (
                ("noise 10 dB", add_noise(y, 10.0, seed=i)),
                ("telephone", telephone(y)),
                ("music 10 dB", mix(y, piece, 10.0)),
                ("music 5 dB", mix(y, piece, 5.0)),
                ("music 0 dB", mix(y, piece, 0.0)),
            ):
                degraded[name].append(head.probability(embed(z))[0] >= THRESHOLD)
        rows.append(
            {
                "held-out corpus": c,
                "files": int(held.sum()),
                "kept %": pct(kept),
                "missed": int((~kept).sum()),
                **{f"{k} %": pct(v) for k, v in degraded.items()},
                "degraded n": len(paths),
            }
        )
    print(
        "\nSpeech kept by a head fitted without the corpus (as recorded: every file; degraded: every "
        f"{args.every}th)\n"
    )
    print(md_table(rows, list(rows[0])))

    bundled = model.speech_head
    esp = []
    for v in ESPEAK_VOICES:
        for s in SENTENCES:
            wav = subprocess.run(
                ["espeak-ng", "-v", v, "--stdout", s], capture_output=True, check=True
            ).stdout
            import soundfile as sf

            y, sr = sf.read(io.BytesIO(wav), dtype="float32")
            esp.append(bundled.probability(embed(resample(y, sr, 16000)))[0] >= THRESHOLD)
    print(
        f"\nespeak-ng, {len(ESPEAK_VOICES)} voices x {len(SENTENCES)} sentences: {pct(esp)} % kept by the "
        "bundled head"
    )

    # non-speech: leave one kind out (test clips: seeds 0.., 3 s, as bench_speech.py)
    speech_all = np.vstack([table.X, aug])
    rows = []
    for kind in NON_SPEECH:
        head = fit_speech_head(speech_all, other_X[other_kind != kind])
        clips = [non_speech(kind, s) for s in range(args.clips)]
        dsp = np.array([not detect_speech(y).speech for y in clips])
        learned = head.probability(np.stack([embed(y) for y in clips])) < THRESHOLD
        rows.append(
            {
                "kind": kind,
                "clips": len(clips),
                "signal check %": pct(dsp),
                "head without the kind %": pct(learned),
                "either %": pct(dsp | learned),
            }
        )
    print("\nGenerated non-speech rejected (the head fitted without that kind)\n")
    print(md_table(rows, list(rows[0])))

    learned = bundled.probability(piece_X) < THRESHOLD
    print(
        f"\nReal instruments ({args.pieces} rendered General MIDI pieces, never in training): rejected by "
        f"the signal check {pct(~piece_dsp)} %, by the bundled head {pct(learned)} %, by either "
        f"{pct(~piece_dsp | learned)} %; speech probability of the pieces: median "
        f"{np.median(bundled.probability(piece_X)):.3f}, max {bundled.probability(piece_X).max():.3f}"
    )
    print(f"\n{machine()}; {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
