"""Images generated for the content tests (Pillow): textured originals and the copies a platform
re-upload makes of them."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageEnhance


def textured(seed: int, size: int = 384) -> Image.Image:
    """A photo-like image: smooth random colour fields with a few shapes (PDQ quality 100)."""
    rng = np.random.default_rng(seed)
    base = (rng.random((24, 24, 3)) * 255).astype(np.uint8)
    img = Image.fromarray(base).resize((size, size), Image.Resampling.BICUBIC)
    arr = np.asarray(img).astype(np.int16)
    for _ in range(6):
        x, y, r = (int(v) for v in rng.integers(20, size - 20, 3))
        yy, xx = np.ogrid[:size, :size]
        arr[(xx - x) ** 2 + (yy - y) ** 2 < (r // 3) ** 2] = rng.integers(0, 255, 3)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def encoded(img: Image.Image, fmt: str = "PNG", **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def copies(img: Image.Image) -> dict[str, bytes]:
    """The copies that must still match: resized, re-encoded as JPEG at quality 60, cropped by 1%
    a side, brightened."""
    w, h = img.size
    dx, dy = max(1, w // 100), max(1, h // 100)
    arr = np.asarray(img).astype(np.int16) + 20
    return {
        "resized to half": encoded(img.resize((w // 2, h // 2), Image.Resampling.BILINEAR)),
        "jpeg quality 60": encoded(img, "JPEG", quality=60),
        "cropped 1% a side": encoded(img.crop((dx, dy, w - dx, h - dy))),
        "brightness +20": encoded(Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))),
        "contrast 0.9, as JPEG": encoded(ImageEnhance.Contrast(img).enhance(0.9), "JPEG", quality=80),
    }


def flat(size: int = 256) -> bytes:
    return encoded(Image.new("RGB", (size, size), (128, 128, 128)))


def tiny() -> bytes:
    return encoded(textured(1).resize((4, 4)))


def animated(frames: list[Image.Image]) -> bytes:
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


def video(scenes: list[Image.Image], seconds_each: float = 1.0, fps: int = 10, size: tuple[int, int] = (320, 240)) -> bytes:
    """An MP4 (MPEG-4 part 2, which PyAV's FFmpeg always has) showing each scene in turn, with
    a little motion (one pixel a frame), as a re-encoded clip would."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.bit_rate = 2_000_000
        for scene in scenes:
            base = scene.resize((size[0] + 40, size[1] + 40))
            for i in range(int(seconds_each * fps)):
                frame = base.crop((i % 20, i % 20, i % 20 + size[0], i % 20 + size[1]))
                for packet in stream.encode(av.VideoFrame.from_image(frame)):
                    out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()
