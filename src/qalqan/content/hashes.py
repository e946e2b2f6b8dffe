"""File and perceptual hashes for terrorist-content indicators.

* `file_hashes` — exact cryptographic digests (md5, sha1, sha256), streamed with hashlib.
* `pdq_hash` — Meta's PDQ perceptual hash (256 bits, 64 hex chars) via the `pdqhash`
  bindings, with PDQ's quality score; images below the quality floor (default 50, PDQ's
  recommendation) or that are not images at all raise `Unhashable` with the reason.
* `hamming` — bit distance between two hex hashes (PDQ match threshold is usually 31).
* `video_frame_hashes` — PDQ hashes of sampled video frames (PIL images), skipping frames
  that are unhashable. No video decoding happens here.

Pure: no database or web imports.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np

Source = Union[str, PathLike, bytes, bytearray, memoryview, BinaryIO]

#: PDQ's recommended minimum quality: below it the hash is too unreliable to match on.
QUALITY_FLOOR = 50
#: Smallest side (pixels) we accept; PDQ downsamples to 64x64, tinier inputs carry no signal.
MIN_SIDE = 8
HASH_BITS = 256
HEX_LEN = HASH_BITS // 4
_CHUNK = 1 << 20


class Unhashable(ValueError):
    """Raised when an input cannot yield a trustworthy PDQ hash; `reason` says why."""

    def __init__(self, reason: str, quality: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.quality = quality


@dataclass(frozen=True, slots=True)
class PdqResult:
    """A PDQ hash as 64 hex chars (256 bits, most significant bit first) and its quality."""

    hash_hex: str
    quality: int


def _read_chunks(source: Source) -> Iterable[bytes]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield bytes(source)
        return
    if isinstance(source, (str, PathLike)):
        with open(source, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                yield chunk
        return
    while chunk := source.read(_CHUNK):
        yield chunk


def file_hashes(source: Source) -> dict[str, str]:
    """Return md5, sha1 and sha256 hex digests of a path, bytes or binary file object."""
    digests = {name: hashlib.new(name) for name in ("md5", "sha1", "sha256")}
    for chunk in _read_chunks(source):
        for digest in digests.values():
            digest.update(chunk)
    return {name: digest.hexdigest() for name, digest in digests.items()}


def _open_image(image: object):  # -> PIL.Image.Image
    from PIL import Image, UnidentifiedImageError

    if isinstance(image, Image.Image):
        return image
    try:
        if isinstance(image, (bytes, bytearray, memoryview)):
            img = Image.open(io.BytesIO(bytes(image)))
        elif isinstance(image, (str, PathLike)):
            img = Image.open(Path(image))
        else:
            raise Unhashable(f"unsupported input type {type(image).__name__}")
        img.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise Unhashable(f"not an image: {exc}") from exc
    return img


def _to_rgb_array(image: object) -> np.ndarray:
    img = _open_image(image)
    if min(img.size) < MIN_SIDE:
        raise Unhashable(f"image too small: {img.size[0]}x{img.size[1]} (min side {MIN_SIDE})")
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


def bits_to_hex(bits: np.ndarray) -> str:
    """Pack a 256-element 0/1 vector (first element = most significant bit) into hex."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def pdq_hash(image: object, quality_floor: int = QUALITY_FLOOR) -> PdqResult:
    """PDQ hash of a path, encoded image bytes or PIL image; raise `Unhashable` if unfit."""
    import pdqhash

    array = _to_rgb_array(image)
    bits, quality = pdqhash.compute(array)
    quality = int(quality)
    if quality < quality_floor:
        raise Unhashable(f"quality {quality} below floor {quality_floor}", quality)
    return PdqResult(bits_to_hex(bits), quality)


def hamming(a_hex: str, b_hex: str) -> int:
    """Number of differing bits between two equal-length hex hashes."""
    if len(a_hex) != len(b_hex):
        raise ValueError(f"hash lengths differ: {len(a_hex)} vs {len(b_hex)}")
    return (int(a_hex, 16) ^ int(b_hex, 16)).bit_count()


def video_frame_hashes(frames: Iterable[object], quality_floor: int = QUALITY_FLOOR) -> list[PdqResult]:
    """PDQ hashes of sampled frames (PIL images), in order, skipping unhashable frames."""
    results: list[PdqResult] = []
    for frame in frames:
        try:
            results.append(pdq_hash(frame, quality_floor))
        except Unhashable:
            continue
    return results


#: Frames sampled from an animated image (GIF, WebP, APNG): evenly spaced, first and last included.
MAX_FRAMES = 16


def sample_frames(count: int, most: int = MAX_FRAMES) -> list[int]:
    """Indexes of at most `most` frames evenly spaced over `count`, first and last included."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


def image_pdq_hashes(image: object, quality_floor: int = QUALITY_FLOOR, max_frames: int = MAX_FRAMES) -> list[PdqResult]:
    """PDQ hashes of an image: one for a still image, one per sampled frame of an animated one
    (frames under the quality floor skipped). `Unhashable` when no frame is hashable, with the
    reason of the first; a decompression bomb is unhashable, never decoded."""
    from PIL import Image

    try:
        img = _open_image(image)
    except Image.DecompressionBombError as exc:
        raise Unhashable(f"not hashed: {exc}") from None
    frames = int(getattr(img, "n_frames", 1) or 1)
    if frames <= 1:
        return [pdq_hash(img, quality_floor)]
    results: list[PdqResult] = []
    first: Unhashable | None = None
    for index in sample_frames(frames, max_frames):
        img.seek(index)
        try:
            results.append(pdq_hash(img.convert("RGB"), quality_floor))
        except Unhashable as exc:
            first = first or exc
    if not results:
        raise first or Unhashable("no frame is hashable")
    return results


#: Video: at most this many frames are sampled, and a file with more than this many seconds of
#: video is sampled over its first VIDEO_MAX_SECONDS only when its duration is unknown.
VIDEO_MAX_SECONDS = 3600


def video_frames(data: bytes, max_frames: int = MAX_FRAMES) -> list[tuple[float, object]]:
    """(time in seconds, PIL image) of up to `max_frames` frames sampled evenly over a video's
    duration (each the first frame at or after the middle of its slice; seeking to the keyframe
    before it). `Unhashable` when the data is not a video FFmpeg (PyAV) can read."""
    import av

    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise Unhashable(f"not a video: {exc}") from None
    with container:
        streams = container.streams.video
        if not streams:
            raise Unhashable("not a video: no video stream")
        stream = streams[0]
        if stream.duration and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / av.time_base
        else:
            duration = 0.0
        frames: list[tuple[float, object]] = []
        try:
            if duration <= 0:
                for frame in container.decode(stream):
                    frames.append((float(frame.time or 0.0), frame.to_image()))
                    if len(frames) >= max_frames or (frame.time or 0) > VIDEO_MAX_SECONDS:
                        break
                return frames
            for i in range(max_frames):
                target = duration * (i + 0.5) / max_frames
                container.seek(int(target / stream.time_base), stream=stream, backward=True, any_frame=False)
                for frame in container.decode(stream):
                    if frame.time is None or frame.time >= target - 1e-6:
                        when = float(frame.time if frame.time is not None else target)
                        if not frames or when > frames[-1][0]:
                            frames.append((when, frame.to_image()))
                        break
        except (av.FFmpegError, ValueError) as exc:
            if not frames:
                raise Unhashable(f"not a readable video: {exc}") from None
        if not frames:
            raise Unhashable("no frame could be decoded")
        return frames


def video_pdq_hashes(data: bytes, quality_floor: int = QUALITY_FLOOR, max_frames: int = MAX_FRAMES) -> list[tuple[float, PdqResult]]:
    """(time, PDQ hash) of a video's sampled frames (frames under the quality floor skipped);
    `Unhashable` when none is hashable."""
    results: list[tuple[float, PdqResult]] = []
    first: Unhashable | None = None
    for when, image in video_frames(data, max_frames):
        try:
            results.append((when, pdq_hash(image, quality_floor)))
        except Unhashable as exc:
            first = first or exc
    if not results:
        raise first or Unhashable("no frame is hashable")
    return results
