"""The learned "no speech" check (``emovox.speech_head``) with the signal check, on what it never saw.

    python benchmarks/bench_speech_head.py [--every 10] [--pieces 200] [--clips 40]

What a model with a speech head decides (``EmotionModel.predict_signal``: ``embed_speech``, the signal check
then ``voice_embedding``): silence and sound without voicing stop at the signal check
(``emovox.speech.detect_speech``); otherwise the head's speech probability decides, under 0.1 alone, under
0.5 with the signal check agreeing, and a recording it rejects as a whole is still speech if one of its
3 s windows scores 0.9 or more. Each table sets the signal check alone beside that decision. Features: the bundled default's front end (Whisper-base int8,
layers 2-5, mean over the voiced frames), the training features from the cache. Each head is fitted as the
bundled one is (the training recordings and their channel-augmented copies against generated non-speech,
seeds from 1000), except for what is held out:

- speech, **leave one corpus out**: a head fitted without the corpus decides on all of its recordings, and
  on every ``--every``-th one with white noise at 10 dB SNR, in the telephone band, with a rendered MIDI
  piece mixed in at 10 / 5 / 0 dB SNR, and after as long (1:1), twice (2:1) or four times as long a piece;
- espeak-ng sentences in several voices and languages (synthetic speech, never in training);
- non-speech, **leave one kind out**: each kind of generated clip (seeds 0 to ``--clips``-1, 3 s) by a head
  fitted without that kind;
- **real instruments**, never in training: ``--pieces`` General MIDI pieces rendered by FluidSynth
  (``emovox.audio.synthetic.midi_piece``), by the bundled head.

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
from emovox.speech_head import fit_speech_head, non_speech_signals  # noqa: E402
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


def decide(model, head, y: np.ndarray) -> bool:
    """Speech or not, as ``model`` with the speech head ``head`` decides."""
    model.speech_head = head
    return model.predict_signal(y, sr=16000).speech


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--every", type=int, default=10, help="degrade every N-th file of each corpus (default: %(default)s)"
    )
    ap.add_argument("--pieces", type=int, default=200, help="rendered MIDI pieces (default: %(default)s)")
    ap.add_argument(
        "--clips", type=int, default=40, help="generated non-speech clips per kind (default: %(default)s)"
    )
    ap.add_argument(
        "--corpus-every",
        type=int,
        default=1,
        help="score every N-th recording of each held-out corpus; more than 1 is a quick run (default: %(default)s)",
    )
    args = ap.parse_args()
    t0 = time.perf_counter()
    model = load_model()
    bundled = model.speech_head  # the LOCO heads below take its place in turn

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

    # speech: leave one corpus out
    rows = []
    for c in CORPORA:
        held = corpus == c
        copies = np.tile(held, len(table.augmented))
        head = fit_speech_head(np.vstack([table.X[~held], aug[~copies]]), other_X)
        paths = table.manifest["path"].to_numpy()[held][:: args.corpus_every]
        signal, both = [], []
        for p in paths:
            y = load_audio(p, 16000)
            signal.append(detect_speech(y).speech)
            both.append(decide(model, head, y))
        row = {"held-out corpus": c, "files": len(paths), "signal check %": pct(signal), "both %": pct(both)}
        for name, make in CONDITIONS.items():
            signal, both = [], []
            for i, p in enumerate(paths[:: args.every]):
                z = make(load_audio(p, 16000), pieces[i % len(pieces)], i)
                signal.append(detect_speech(z).speech)
                both.append(decide(model, head, z))
            row[name] = f"{pct(signal)} / {pct(both)}"
        rows.append({**row, "degraded n": len(paths[:: args.every])})
    print(
        "\nSpeech kept, % (a head fitted without the corpus; degraded: every "
        f"{args.every}th file, signal check alone / both)\n"
    )
    print(md_table(rows, list(rows[0])))

    esp_signal, esp_both = [], []
    import soundfile as sf

    for v in ESPEAK_VOICES:
        for sentence in SENTENCES:
            cmd = ["espeak-ng", "-v", v, "--stdout", sentence]
            y, sr = sf.read(
                io.BytesIO(subprocess.run(cmd, capture_output=True, check=True).stdout), dtype="float32"
            )
            y = resample(y, sr, 16000)
            esp_signal.append(detect_speech(y).speech)
            esp_both.append(decide(model, bundled, y))
    print(
        f"\nespeak-ng, {len(ESPEAK_VOICES)} voices x {len(SENTENCES)} sentences, kept: signal check "
        f"{pct(esp_signal)} %, both (bundled head) {pct(esp_both)} %"
    )

    # non-speech: leave one kind out (test clips: seeds 0.., 3 s, as bench_speech.py)
    speech_all = np.vstack([table.X, aug])
    rows = []
    for kind in NON_SPEECH:
        head = fit_speech_head(speech_all, other_X[other_kind != kind])
        signal, both = [], []
        for s in range(args.clips):
            y = non_speech(kind, s)
            signal.append(not detect_speech(y).speech)
            both.append(not decide(model, head, y))
        rows.append({"kind": kind, "clips": args.clips, "signal check %": pct(signal), "both %": pct(both)})
    print("\nGenerated non-speech rejected, % (the head fitted without that kind)\n")
    print(md_table(rows, list(rows[0])))

    signal, both, prob = [], [], []
    for y in pieces:
        signal.append(not detect_speech(y).speech)
        both.append(not decide(model, bundled, y))
        prob.append(bundled.probability(embed(y))[0])
    print(
        f"\nReal instruments ({args.pieces} rendered General MIDI pieces, never in training), rejected: "
        f"signal check {pct(signal)} %, both (bundled head) {pct(both)} %; the head's speech probability: "
        f"median {np.median(prob):.3f}, max {np.max(prob):.3f}"
    )
    print(f"\n{machine()}; {time.perf_counter() - t0:.0f} s")


CONDITIONS = {
    "noise 10 dB": lambda y, piece, i: add_noise(y, 10.0, seed=i),
    "telephone": lambda y, piece, i: telephone(y),
    "music 10 dB": lambda y, piece, i: mix(y, piece, 10.0),
    "music 5 dB": lambda y, piece, i: mix(y, piece, 5.0),
    "music 0 dB": lambda y, piece, i: mix(y, piece, 0.0),
    "after music 1:1": lambda y, piece, i: after(y, piece, 1.0),
    "after music 2:1": lambda y, piece, i: after(y, piece, 2.0),
    "after music 4:1": lambda y, piece, i: after(y, piece, 4.0),
}


def after(speech: np.ndarray, piece: np.ndarray, ratio: float) -> np.ndarray:
    """``ratio`` times the speech's duration of ``piece`` (at the speech's RMS), then the speech."""
    music = np.resize(piece, int(ratio * speech.size)).astype(np.float64)
    music *= np.sqrt(np.mean(speech.astype(np.float64) ** 2) / (np.mean(music**2) + 1e-12))
    return np.concatenate([music, speech]).astype(np.float32)


if __name__ == "__main__":
    main()
