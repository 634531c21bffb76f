"""A demo set of generated pictures for the picture-reaction session, one scene per emotion.

The pictures are small SVG documents built here (no image files, no licences to track). Each one is meant to
invite a reaction with a given emotion; the session compares that *expected* emotion with the one detected
in the spoken reaction.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoPicture:
    """One generated picture: ``id`` (URL name), ``title``, the ``expected`` emotion, a ``prompt``."""

    id: str
    title: str
    expected: str
    prompt: str
    body: str

    def svg(self) -> str:
        """The picture as a standalone 640x400 SVG document."""
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 400" width="640" height="400" '
            f'role="img" aria-label="{self.title}"><title>{self.title}</title>{self.body}</svg>'
        )


def _rays(cx: int, cy: int, r1: int, r2: int, n: int, colour: str) -> str:
    import math

    out = []
    for i in range(n):
        a = 2 * math.pi * i / n
        out.append(
            f'<line x1="{cx + r1 * math.cos(a):.1f}" y1="{cy + r1 * math.sin(a):.1f}" '
            f'x2="{cx + r2 * math.cos(a):.1f}" y2="{cy + r2 * math.sin(a):.1f}" '
            f'stroke="{colour}" stroke-width="8" stroke-linecap="round"/>'
        )
    return "".join(out)


def _face(cx: int, cy: int, r: int, mouth: str, fill: str, brows: str = "") -> str:
    return (
        f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{fill}" stroke="#3b2f2f" stroke-width="5"/>'
        f'<circle cx="{cx - r // 3}" cy="{cy - r // 5}" r="{r // 9}" fill="#3b2f2f"/>'
        f'<circle cx="{cx + r // 3}" cy="{cy - r // 5}" r="{r // 9}" fill="#3b2f2f"/>'
        f'{brows}<path d="{mouth}" fill="none" stroke="#3b2f2f" stroke-width="6" stroke-linecap="round"/>'
    )


_SCENES: list[DemoPicture] = [
    DemoPicture(
        "sunny-meadow",
        "A sunny meadow",
        "happy",
        "What a lovely day! Tell us how it makes you feel.",
        '<rect width="640" height="400" fill="#8fd3ff"/>'
        '<rect y="270" width="640" height="130" fill="#7ccf6a"/>'
        + _rays(150, 120, 70, 105, 12, "#ffcc33")
        + _face(150, 120, 60, "M120 138 Q150 168 180 138", "#ffd84d")
        + "".join(
            f'<circle cx="{x}" cy="{y}" r="12" fill="{c}"/><circle cx="{x}" cy="{y}" r="5" fill="#fff6b0"/>'
            for x, y, c in [
                (330, 320, "#ff6f91"),
                (420, 345, "#ff9f43"),
                (510, 315, "#c56cf0"),
                (580, 355, "#ff6f91"),
                (260, 360, "#feca57"),
            ]
        )
        + '<path d="M400 90 q20 -20 40 0 q20 -20 40 0" fill="none" stroke="#3b3b3b" stroke-width="4"/>',
    ),
    DemoPicture(
        "rainy-window",
        "Rain on an empty street",
        "sad",
        "Say something about this grey afternoon.",
        '<rect width="640" height="400" fill="#6b7b8c"/>'
        '<rect y="300" width="640" height="100" fill="#4a5561"/>'
        '<ellipse cx="240" cy="110" rx="150" ry="55" fill="#9aa5b1"/>'
        '<ellipse cx="380" cy="95" rx="130" ry="60" fill="#8a96a3"/>'
        + "".join(
            f'<line x1="{x}" y1="{y}" x2="{x - 8}" y2="{y + 26}" stroke="#c9d6e3" stroke-width="3" '
            'stroke-linecap="round"/>'
            for x in range(60, 640, 48)
            for y in (180, 240, 300, 350)
            if (x + y) % 3
        )
        + _face(520, 300, 48, "M495 325 Q520 305 545 325", "#c9d6e3")
        + '<path d="M503 300 q-4 14 0 18" fill="#7fb2e5" stroke="#7fb2e5" stroke-width="4"/>',
    ),
    DemoPicture(
        "broken-phone",
        "Someone stepped on your phone",
        "angry",
        "React out loud: how do you feel about it?",
        '<rect width="640" height="400" fill="#2d1b1b"/>'
        + _rays(320, 200, 150, 190, 16, "#ff4d4d")
        + '<rect x="250" y="90" width="140" height="230" rx="18" fill="#111" stroke="#888" stroke-width="6"/>'
        '<path d="M270 120 L330 190 L300 220 L370 300 M330 190 L372 160" stroke="#e8e8e8" stroke-width="4" '
        'fill="none"/>'
        + _face(
            520,
            90,
            50,
            "M495 115 Q520 98 545 115",
            "#ff6b6b",
            '<path d="M487 62 L515 76 M553 62 L525 76" stroke="#3b2f2f" stroke-width="6"/>',
        ),
    ),
    DemoPicture(
        "grey-office",
        "An ordinary office corridor",
        "neutral",
        "Describe what you see, plainly.",
        '<rect width="640" height="400" fill="#d9dcdf"/>'
        '<polygon points="0,0 640,0 420,140 220,140" fill="#c4c8cc"/>'
        '<polygon points="0,400 640,400 420,260 220,260" fill="#b5b9bd"/>'
        '<polygon points="0,0 220,140 220,260 0,400" fill="#e3e5e7"/>'
        '<polygon points="640,0 420,140 420,260 640,400" fill="#e3e5e7"/>'
        '<rect x="220" y="140" width="200" height="120" fill="#aab0b5"/>'
        '<rect x="300" y="170" width="40" height="90" fill="#8c9297"/>'
        + "".join(f'<rect x="{x}" y="120" width="40" height="110" fill="#9aa1a7"/>' for x in (60, 540)),
    ),
    DemoPicture(
        "calm-sea",
        "A calm sea at dusk",
        "calm",
        "Take a breath and describe the view slowly.",
        '<rect width="640" height="400" fill="#f7c6a3"/>'
        '<rect y="220" width="640" height="180" fill="#5b8fb9"/>'
        '<circle cx="320" cy="220" r="70" fill="#ffe1a8"/>'
        '<rect y="220" width="640" height="180" fill="#5b8fb9" opacity="0.85"/>'
        + "".join(
            f'<path d="M{x} {y} q30 -10 60 0" stroke="#cfe3f3" stroke-width="3" fill="none"/>'
            for x, y in [(80, 260), (420, 280), (220, 320), (500, 350), (120, 370)]
        ),
    ),
    DemoPicture(
        "dark-forest",
        "Eyes in a dark forest",
        "fearful",
        "You are alone here. What do you say?",
        '<rect width="640" height="400" fill="#0e1a14"/>'
        + "".join(
            f'<polygon points="{x},400 {x + 45},{h} {x + 90},400" fill="#1f3b2c"/>'
            for x, h in [(-20, 120), (80, 60), (200, 140), (320, 80), (440, 130), (560, 70)]
        )
        + "".join(
            f'<ellipse cx="{x}" cy="{y}" rx="9" ry="5" fill="#f6f24b"/>'
            f'<ellipse cx="{x + 26}" cy="{y}" rx="9" ry="5" fill="#f6f24b"/>'
            for x, y in [(150, 250), (400, 210), (520, 300)]
        )
        + '<circle cx="560" cy="60" r="26" fill="#d8d8c8"/>',
    ),
    DemoPicture(
        "rotten-fruit",
        "A bowl of rotten fruit",
        "disgust",
        "Would you eat this? Say it out loud.",
        '<rect width="640" height="400" fill="#e6e2c3"/>'
        '<ellipse cx="320" cy="300" rx="210" ry="50" fill="#8d6e4f"/>'
        + "".join(
            f'<circle cx="{x}" cy="{y}" r="{r}" fill="{c}"/>'
            for x, y, r, c in [
                (240, 250, 55, "#7a8f3a"),
                (330, 230, 60, "#6b5b2a"),
                (420, 255, 52, "#8a9a44"),
                (290, 200, 40, "#5e6b2b"),
            ]
        )
        + "".join(
            f'<circle cx="{x}" cy="{y}" r="{r}" fill="#3e4a1c" opacity="0.8"/>'
            for x, y, r in [(230, 240, 12), (345, 220, 15), (410, 265, 10), (300, 190, 9)]
        )
        + "".join(
            f'<circle cx="{x}" cy="{y}" r="4" fill="#222"/>' for x, y in [(380, 150), (250, 140), (460, 170)]
        ),
    ),
    DemoPicture(
        "surprise-box",
        "A gift box bursting open",
        "surprised",
        "Oh! React to what just popped out.",
        '<rect width="640" height="400" fill="#fff3d6"/>'
        + _rays(320, 170, 40, 150, 18, "#ffb347")
        + "".join(
            f'<rect x="{x}" y="{y}" width="12" height="12" fill="{c}" transform="rotate({x % 60} {x} {y})"/>'
            for x, y, c in [
                (150, 80, "#ff6f91"),
                (480, 70, "#4dabf7"),
                (200, 40, "#51cf66"),
                (430, 130, "#fcc419"),
                (110, 160, "#845ef7"),
                (530, 180, "#ff6f91"),
            ]
        )
        + '<rect x="240" y="250" width="160" height="120" fill="#e64980"/>'
        '<rect x="305" y="250" width="30" height="120" fill="#ffd43b"/>'
        + _face(320, 170, 55, "M305 195 a15 15 0 1 0 30 0 a15 15 0 1 0 -30 0", "#ffe066"),
    ),
]


def demo_pictures(labels: list[str] | None = None) -> list[DemoPicture]:
    """The demo pictures whose expected emotion the model can detect (all of them when ``labels`` is None).

    Parameters
    ----------
    labels : list of str, optional
        The model's labels (default None: every picture).

    Returns
    -------
    list of DemoPicture
    """
    return [p for p in _SCENES if labels is None or p.expected in labels]


def find_picture(picture_id: str) -> DemoPicture | None:
    """The demo picture named ``picture_id``, or None.

    Parameters
    ----------
    picture_id : str
        A picture's ``id``.

    Returns
    -------
    DemoPicture or None
    """
    return next((p for p in _SCENES if p.id == picture_id), None)
